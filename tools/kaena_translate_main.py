"""``kaena-translate FILE.mlir --target neff -o OUT.neff``: encode allocated,
synchronised Inferentia-dialect IR as a NEFF."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

from kaena.dialects.attributes import MODEL_NAME_ATTR
from kaena.dialects.dominance import verify_ir
from kaena.errors import KaenaError
from kaena.registry import make_context
from kaena.files import atomic_write
from kaena.tools.cli import run_tool

TARGETS = ("neff",)


def parse_ir_file(path: str) -> ModuleOp:
    """Parse and verify a textual IR file; errors name the file."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode()
    except FileNotFoundError:
        raise KaenaError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise KaenaError(f"{path}: cannot read IR: {e}") from None
    try:
        module = Parser(make_context(), text, path).parse_module()
        verify_ir(module)
    except ParseError as e:  # carries file:line:column already
        raise KaenaError(str(e).strip()) from None
    except VerifyException as e:
        raise KaenaError(f"{path}: invalid IR: {str(e).strip()}") from None
    return module


def run_translate(argv: Sequence[str] | None = None) -> int:
    """``kaena-translate ARGV`` in this process (for the IR fuzzer)."""
    return run_tool("kaena-translate", lambda: _main(argv))


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kaena-translate", description="Translate Inferentia-dialect IR to a NEFF"
    )
    parser.add_argument("input_file", help="IR after inf-allocate-sram and inf-insert-semaphores")
    parser.add_argument("--target", default="neff", choices=TARGETS)
    parser.add_argument("-o", "--output-file", required=True, help="NEFF file to write")
    parser.add_argument("--name", help="model name stored in the NEFF (default: from the IR or file)")
    args = parser.parse_args(argv)

    from kaena.codegen import emit_neff
    from kaena.driver import COMPILER_VERSION
    from kaena.weights import set_default_base_dir, module_store

    module = parse_ir_file(args.input_file)
    set_default_base_dir(os.path.dirname(os.path.abspath(args.input_file)))
    name = args.name
    if name is None:
        attr = module.attributes.get(MODEL_NAME_ATTR)
        name = attr.data if isinstance(attr, StringAttr) else os.path.splitext(
            os.path.basename(args.input_file))[0]
    neff = emit_neff(module, module_store(module), name=name, compiler_version=COMPILER_VERSION)
    atomic_write(args.output_file, neff.to_bytes())
    return 0


def main() -> None:
    sys.exit(run_translate())


if __name__ == "__main__":
    main()
