"""``kaena-opt``: xdsl-opt over Kaena's dialects and passes.

Same conventions as xdsl-opt / mlir-opt (``-p``, ``--split-input-file``,
``--verify-diagnostics``, ``--print-op-generic``, ``--print-between-passes``,
``-o``), plus ``--load-pass-plugin FILE.py`` for user passes.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import re
import sys
from collections.abc import Sequence

from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError, VerifyException
from xdsl.xdsl_opt_main import xDSLOptMain

from kaena import __version__
from kaena.errors import KaenaError
from kaena.dialects.dominance import verify_dominance
from kaena.registry import all_passes, check_pass_level, kaena_dialects, load_pass_plugin, pipeline_error
from kaena.files import atomic_write
from kaena.tools.cli import run_tool
from kaena.weights import set_default_base_dir


# mlir-opt's annotation of the diagnostic a --verify-diagnostics chunk must produce.
_EXPECTED_ERROR = re.compile(r"//\s*expected-error(?:@[-+]?\d+)?\s*\{\{(.*?)\}\}")


class _DeferredOutput(io.StringIO):
    """Collects the output; the tool writes it to ``-o`` only after success."""

    def close(self) -> None:  # xdsl-opt closes its stream in a finally block
        pass


class KaenaOptMain(xDSLOptMain):
    version_format = f"kaena-opt {__version__} (xDSL {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None):
        argv = list(sys.argv[1:] if args is None else args)
        # Plugins must be registered before xdsl-opt builds its pass table.
        for path in _plugin_paths(argv):
            load_pass_plugin(path)
        self._deferred: _DeferredOutput | None = None
        super().__init__(description="Kaena's modular optimizer driver", args=argv)
        if self.args.input_file:
            set_default_base_dir(os.path.dirname(os.path.abspath(self.args.input_file)))

    def register_all_dialects(self):
        super().register_all_dialects()
        for name, factory in kaena_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self):
        super().register_all_passes()
        for name, factory in all_passes().items():
            self.register_pass(name, factory)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser):
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--load-pass-plugin",
            action="append",
            default=[],
            metavar="FILE.py",
            help="load a Python file defining ModulePass subclasses and register them by name",
        )

    def setup_pipeline(self):
        """xdsl-opt's pipeline, whose callback (before the first pass, between passes, after
        the last) verifies the module; Kaena's verification adds dominance, and each pass
        first checks that the module is at its level (``check_pass_level``)."""
        super().setup_pipeline()
        verify_between = self.pipeline.callback

        def callback(previous_pass, module, next_pass):
            if verify_between is not None:
                verify_between(previous_pass, module, next_pass)
            if not self.args.disable_verify:
                verify_dominance(module)
            if next_pass is not None:
                try:
                    check_pass_level(next_pass.name, module)
                except KaenaError as e:
                    raise KaenaError(f"{self.get_input_name()}: {e}") from None

        self.pipeline = dataclasses.replace(self.pipeline, callback=callback)

    def run(self):
        """xdsl-opt's loop, plus mlir-opt's ``// expected-error {{text}}`` annotations under
        ``--verify-diagnostics``: a chunk that has them must fail with a diagnostic holding
        each text, or the tool fails (exit 1). Chunks without them print their diagnostic
        for FileCheck, as in xdsl-opt."""
        if not self.args.verify_diagnostics or self.args.shrink:
            return super().run()
        chunks, file_extension = self.prepare_input()
        output_stream = self.prepare_output()
        failures: list[str] = []
        for i, (chunk, offset) in enumerate(chunks):
            text = chunk.getvalue()
            expected = _EXPECTED_ERROR.findall(text.decode("utf-8") if isinstance(text, bytes) else text)
            if i > 0:
                output_stream.write("// -----\n")
            diagnostic = None
            try:
                module = self.parse_chunk(chunk, file_extension, offset)
                if module is not None:
                    self.apply_passes(module)
                    output_stream.write(self.output_resulting_program(module))
            except ParseError as e:
                if not (self.args.parsing_diagnostics or expected):
                    raise
                diagnostic = str(e)
            except DiagnosticException as e:
                diagnostic = "\n".join([str(e), *map(str, getattr(e, "__notes__", []))])
            finally:
                chunk.close()
            if diagnostic is not None:
                print(diagnostic)
            where = f"chunk {i + 1}"
            if expected and diagnostic is None:
                failures.append(f"{where} expected the error '{expected[0]}' but passed")
            elif expected:
                failures += [f"{where} expected the error '{x}' but got: {diagnostic.strip().splitlines()[-1]}"
                             for x in expected if x not in diagnostic]
        output_stream.flush()
        if failures:
            raise KaenaError(f"{self.get_input_name()}: --verify-diagnostics: {'; '.join(failures)}")

    def prepare_output(self):
        if self.args.output_file is None:
            return sys.stdout
        self._deferred = _DeferredOutput()
        return self._deferred

    def output_resulting_program(self, prog) -> str:
        self._save_derived_weights(prog)
        return super().output_resulting_program(prog)

    def _save_derived_weights(self, prog) -> None:
        """Passes may add weights (folded, re-laid-out); IR printed to a file must
        name a store that has them, so save it beside the output."""
        from xdsl.dialects.builtin import StringAttr

        from kaena.weights import WEIGHTS_ATTR, module_store

        attr = prog.attributes.get(WEIGHTS_ATTR)
        if not isinstance(attr, StringAttr) or attr.data.startswith("mem:"):
            return
        store = module_store(prog)
        if not store.added:
            return
        if self.args.output_file is None:
            print(
                f"kaena-opt: warning: passes derived {len(store.added)} weight(s) that exist only "
                "in memory; use -o FILE to save them beside the output",
                file=sys.stderr,
            )
            return
        out = os.path.abspath(self.args.output_file)
        weights_path = os.path.splitext(out)[0] + ".weights.npz"
        store.save(weights_path)
        prog.attributes[WEIGHTS_ATTR] = StringAttr(os.path.basename(weights_path))

    def finish(self) -> None:
        if self._deferred is not None:
            atomic_write(self.args.output_file, self._deferred.getvalue().encode())


def _plugin_paths(argv: list[str]) -> list[str]:
    paths = []
    for i, a in enumerate(argv):
        if a == "--load-pass-plugin" and i + 1 < len(argv):
            paths.append(argv[i + 1])
        elif a.startswith("--load-pass-plugin="):
            paths.append(a.split("=", 1)[1])
    return paths


def _check_input(path: str | None) -> None:
    """The input is a readable UTF-8 text file (xdsl-opt would die on a directory or binary)."""
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        raise KaenaError(f"{path}: is a directory; give an IR file (.mlir)")
    try:
        with open(path, "rb") as f:
            f.read().decode("utf-8")
    except FileNotFoundError:
        raise KaenaError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise KaenaError(f"{path}: not an IR text file (byte {e.start} is not UTF-8)") from None
    except OSError as e:
        raise KaenaError(f"{path}: cannot read it ({e.strerror})") from None


def _pipeline_arg(argv: Sequence[str]) -> str:
    for i, a in enumerate(argv):
        if a in ("-p", "--passes") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(("-p=", "--passes=")):
            return a.split("=", 1)[1]
    return ""


def run_opt(argv: Sequence[str] | None = None) -> int:
    """``kaena-opt ARGV`` in this process (for the IR fuzzer): the exit code, the error on stderr."""
    return run_tool("kaena-opt", lambda: _main(argv))


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opt = KaenaOptMain(argv)
    except ValueError as e:  # unknown pass names, bad pass options
        raise KaenaError(str(e)) from None
    except ArgSpecParseError as e:  # a malformed -p (a BaseException in xDSL)
        raise pipeline_error(_pipeline_arg(argv), e) from None
    _check_input(opt.args.input_file)
    try:
        opt.run()
    except ArgSpecParseError as e:
        raise pipeline_error(_pipeline_arg(argv), e) from None
    except ParseError as e:  # carries file:line:column already
        raise KaenaError(str(e).strip()) from None
    except (VerifyException, DiagnosticException) as e:
        raise KaenaError(f"{opt.get_input_name()}: invalid IR: {str(e).strip()}") from None
    except FileNotFoundError as e:
        raise KaenaError(f"{e.filename}: no such file") from None
    except ValueError as e:
        raise KaenaError(str(e)) from None
    opt.finish()
    return 0


def main() -> None:
    sys.exit(run_opt())


if __name__ == "__main__":
    main()
