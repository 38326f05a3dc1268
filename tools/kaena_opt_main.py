"""``kaena-opt``: xdsl-opt over Kaena's dialects and passes.

Same conventions as xdsl-opt / mlir-opt (``-p``, ``--split-input-file``,
``--verify-diagnostics``, ``--print-op-generic``, ``--print-between-passes``,
``-o``), plus ``--load-pass-plugin FILE.py`` for user passes.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence

from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.xdsl_opt_main import xDSLOptMain

from kaena import __version__
from kaena.errors import KaenaError
from kaena.registry import all_passes, kaena_dialects, load_pass_plugin
from kaena.files import atomic_write
from kaena.tools.cli import run_tool
from kaena.weights import set_default_base_dir


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


def _main() -> int:
    try:
        opt = KaenaOptMain()
    except ValueError as e:  # unknown pass names, bad pass options
        raise KaenaError(str(e)) from None
    try:
        opt.run()
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
    sys.exit(run_tool("kaena-opt", _main))


if __name__ == "__main__":
    main()
