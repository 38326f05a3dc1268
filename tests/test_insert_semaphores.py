"""inf-insert-semaphores, with the simulator as the oracle: programs run through
inf-allocate-sram, inf-insert-semaphores and the encoder must simulate with no
HazardError and the right numbers; removing an inserted wait must be caught."""

from __future__ import annotations

import random

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.parser import Parser

from kaena.codegen import emit_neff
from kaena.dialects.inferentia import LoopOp, SemSignalOp, SemWaitOp
from kaena.errors import CompileError, HazardError
from kaena.passes.transforms.inf.inf_allocate_sram import AllocateSramPass
from kaena.passes.transforms.inf.inf_insert_semaphores import InsertSemaphoresPass, semaphore_of
from kaena.isa import Engine
from kaena.registry import kaena_dialects
from kaena.simulator import simulate
from kaena.weights import WeightStore


def parse(text: str) -> ModuleOp:
    ctx = Context()
    ctx.load_dialect(Builtin)
    for name, factory in kaena_dialects().items():
        ctx.register_dialect(name, factory)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def schedule(module: ModuleOp) -> ModuleOp:
    ctx = Context()
    AllocateSramPass().apply(ctx, module)
    InsertSemaphoresPass().apply(ctx, module)
    module.verify()
    return module


def run(module: ModuleOp, inputs: dict, weights: dict | None = None):
    neff = emit_neff(module, WeightStore(weights or {}), name="t", compiler_version="test")
    return simulate(neff, inputs)


# K = 256 contracted in two trips of 128 into one PSUM tile, then relu, DMA out.
MATMUL = """
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<8x256xf32>
    %w = inf.dram "file" "w" : !inf.dram<256x16xf32>
    %y = inf.dram "output" "y" : !inf.dram<8x16xf32>
    %ws = inf.alloc : !inf.sbuf<128x16xf32>
    %xs = inf.alloc : !inf.sbuf<128x8xf32>
    %ps = inf.alloc : !inf.psum<16x8xf32>
    %o = inf.alloc : !inf.sbuf<16x8xf32>
    inf.loop 2 {
      inf.dma %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %w <p = 0, n = 128, pstride = 16, off = 2048*d0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>, !inf.dram<256x16xf32>
      inf.dma %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 128*d0, dims = [[8, 256]]> : !inf.sbuf<128x8xf32>, !inf.dram<8x256xf32>
      inf.load_stationary %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>
      inf.matmul %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]> {accumulate = #inf.expr<1*d0>} : !inf.psum<16x8xf32>, !inf.sbuf<128x8xf32>
    }
    inf.activation "relu" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.sbuf<16x8xf32>, !inf.psum<16x8xf32>
    inf.dma %y <p = 0, n = 16, pstride = 1, off = 0, dims = [[8, 16]]>, %o <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.dram<8x16xf32>, !inf.sbuf<16x8xf32>
  }
}
"""

# No loops: the same matmul with K = 128, bias from SBUF, plus a vector op.
STRAIGHT = """
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<8x128xf32>
    %w = inf.dram "file" "w" : !inf.dram<128x16xf32>
    %b = inf.dram "file" "b" : !inf.dram<16xf32>
    %y = inf.dram "output" "y" : !inf.dram<8x16xf32>
    %ws = inf.alloc : !inf.sbuf<128x16xf32>
    %xs = inf.alloc : !inf.sbuf<128x8xf32>
    %bs = inf.alloc : !inf.sbuf<16x1xf32>
    %ps = inf.alloc : !inf.psum<16x8xf32>
    %o = inf.alloc : !inf.sbuf<16x8xf32>
    inf.dma %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %w <p = 0, n = 128, pstride = 16, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>, !inf.dram<128x16xf32>
    inf.dma %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 0, dims = [[8, 128]]> : !inf.sbuf<128x8xf32>, !inf.dram<8x128xf32>
    inf.dma %bs <p = 0, n = 16, off = 0, dims = [[1, 1]]>, %b <p = 0, n = 16, pstride = 1, off = 0, dims = [[1, 1]]> : !inf.sbuf<16x1xf32>, !inf.dram<16xf32>
    inf.load_stationary %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>
    inf.matmul %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]> : !inf.psum<16x8xf32>, !inf.sbuf<128x8xf32>
    inf.activation "identity" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]> bias %bs {bias_ap = #inf.ap<p = 0, n = 16, off = 0, dims = [[1, 1]]>} : !inf.sbuf<16x8xf32>, !inf.psum<16x8xf32>, !inf.sbuf<16x1xf32>
    inf.tensor_scalar "max" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %o <p = 0, n = 16, off = 0, dims = [[8, 1]]> {imm = 0.0 : f32} : !inf.sbuf<16x8xf32>, !inf.sbuf<16x8xf32>
    inf.dma %y <p = 0, n = 16, pstride = 1, off = 0, dims = [[8, 16]]>, %o <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.dram<8x16xf32>, !inf.sbuf<16x8xf32>
  }
}
"""


def _matmul_data(k: int):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, k)).astype(np.float32)
    w = rng.standard_normal((k, 16)).astype(np.float32)
    return x, w


def test_matmul_loop_end_to_end():
    x, w = _matmul_data(256)
    module = schedule(parse(MATMUL))
    res = run(module, {"x": x}, {"w": w})
    np.testing.assert_allclose(res.outputs["y"], np.maximum(x @ w, 0), rtol=1e-5, atol=1e-4)


def test_straight_line_end_to_end():
    x, w = _matmul_data(128)
    b = np.linspace(-1, 1, 16).astype(np.float32)
    module = schedule(parse(STRAIGHT))
    res = run(module, {"x": x}, {"w": w, "b": b})
    np.testing.assert_allclose(res.outputs["y"], np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-4)


def _waits(module: ModuleOp) -> list[SemWaitOp]:
    return [op for op in module.walk() if isinstance(op, SemWaitOp)]


@pytest.mark.parametrize("source,k", [(MATMUL, 256), (STRAIGHT, 128)], ids=["loop", "straight"])
def test_removing_any_wait_is_a_hazard(source, k):
    """Every inserted wait is needed: without it the simulator sees a hazard."""
    x, w = _matmul_data(k)
    weights = {"w": w, "b": np.zeros(16, np.float32)}
    n = len(_waits(schedule(parse(source))))
    assert n > 0
    for i in range(n):
        module = schedule(parse(source))
        _waits(module)[i].detach()
        with pytest.raises(HazardError):
            run(module, {"x": x}, weights)


def test_semaphore_numbering():
    seen = {semaphore_of(p, c) for p in Engine for c in Engine if p != c}
    assert seen == set(range(len(Engine) * (len(Engine) - 1)))


def test_refuses_unallocated_and_existing_semaphores():
    with pytest.raises(CompileError, match="run inf-allocate-sram"):
        InsertSemaphoresPass().apply(Context(), parse(MATMUL))
    module = schedule(parse(MATMUL))
    with pytest.raises(CompileError, match="already has semaphores"):
        InsertSemaphoresPass().apply(Context(), module)


# --- random programs ----------------------------------------------------------


class _Gen:
    """Random inf programs over a few [32 x 64] f32 tiles: every tile is fully
    written before it is read; chunks of 16 elements at offsets constant or
    affine in the loop indices; all four engines take part."""

    TILES = 4

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.lines: list[str] = []
        self.trips: list[int] = []
        self.tmp = 0
        self.allocs: list[str] = []

    def emit(self, s: str) -> None:
        self.lines.append("  " * (len(self.trips) + 2) + s)

    def chunk(self) -> str:
        """An offset expression (elements) of a 16-element chunk of a 64-wide row."""
        terms, room = [], 3
        for k, t in enumerate(self.trips):
            if t - 1 <= room and self.r.random() < 0.6:
                terms.append(f"16*d{k}")
                room -= t - 1
        base = 16 * self.r.randint(0, room)
        return " + ".join([str(base)] + terms)

    def ap(self, n: int = 32, off: str = "0", width: int = 16) -> str:
        return f"<p = 0, n = {n}, off = {off}, dims = [[{width}, 1]]>"

    def tile(self) -> str:
        return f"%t{self.r.randrange(self.TILES)}"

    def statement(self, depth: int) -> None:
        r = self.r
        kind = r.choice(["dma", "act", "pool", "tt", "mm", "loop", "tmp"] if depth < 2 else
                        ["dma", "act", "pool", "tt", "mm", "tmp"])
        T = "!inf.sbuf<32x64xf32>"
        if kind == "loop":
            trips = r.randint(2, 3)
            self.emit(f"inf.loop {trips} {{")
            self.trips.append(trips)
            for _ in range(r.randint(1, 3)):
                self.statement(depth + 1)
            self.trips.pop()
            self.emit("}")
        elif kind == "dma":
            off = self.chunk()
            self.emit(f"inf.dma {self.tile()} {self.ap(off=off)}, %x <p = 0, n = 32, pstride = 64, off = {off}, "
                      f"dims = [[16, 1]]> : {T}, !inf.dram<32x64xf32>")
        elif kind == "act":
            func = r.choice(["identity", "relu", "tanh"])
            self.emit(f'inf.activation "{func}" {self.tile()} {self.ap(off=self.chunk())}, {self.tile()} '
                      f"{self.ap(off=self.chunk())} {{scale = 0.5 : f32}} : {T}, {T}")
        elif kind == "pool":
            self.emit(f'inf.tensor_scalar "mul" {self.tile()} {self.ap(off=self.chunk())}, {self.tile()} '
                      f"{self.ap(off=self.chunk())} {{imm = 0.5 : f32}} : {T}, {T}")
        elif kind == "tt":
            self.emit(f'inf.tensor_tensor "add" {self.tile()} {self.ap(off=self.chunk())}, {self.tile()} '
                      f"{self.ap(off=self.chunk())}, {self.tile()} {self.ap(off=self.chunk())} : {T}, {T}, {T}")
        elif kind == "mm":
            self.emit(f"inf.load_stationary {self.tile()} {self.ap(off=self.chunk())} : {T}")
            self.emit(f"inf.matmul %ps {self.ap(n=16, off=self.chunk())}, {self.tile()} {self.ap(off=self.chunk())} "
                      f": !inf.psum<16x64xf32>, {T}")
            self.emit(f'inf.activation "identity" {self.tile()} <p = 0, n = 16, off = {self.chunk()}, '
                      f"dims = [[16, 1]]>, %ps {self.ap(n=16, off=self.chunk())} : {T}, !inf.psum<16x64xf32>")
        else:  # a short-lived tile: exercises memory reuse by the allocator
            name = f"%tmp{self.tmp}"
            self.tmp += 1
            self.allocs.append(f"{name} = inf.alloc : !inf.sbuf<32x64xf32>")
            self.emit(f"inf.memset {name} {self.ap(width=64)} {{value = 0.25 : f32}} : {T}")
            self.emit(f'inf.activation "relu" {self.tile()} {self.ap(off=self.chunk())}, {name} '
                      f"{self.ap(off=self.chunk())} : {T}, {T}")

    def program(self, n: int) -> str:
        T = "!inf.sbuf<32x64xf32>"
        for i in range(self.TILES):
            self.emit(f"inf.dma %t{i} {self.ap(width=64)}, %x <p = 0, n = 32, pstride = 64, off = 0, "
                      f"dims = [[64, 1]]> : {T}, !inf.dram<32x64xf32>")
        self.emit(f"inf.load_stationary %t0 {self.ap()} : {T}")
        self.emit(f"inf.matmul %ps {self.ap(n=16, width=64)}, %t1 {self.ap(width=64)} : !inf.psum<16x64xf32>, {T}")
        for _ in range(n):
            self.statement(0)
        for i in range(self.TILES):
            self.emit(f"inf.dma %y <p = 0, n = 32, pstride = 64, off = {2048 * i}, dims = [[64, 1]]>, "
                      f"%t{i} {self.ap(width=64)} : !inf.dram<{32 * self.TILES}x64xf32>, {T}")
        head = [
            '%x = inf.dram "input" "x" : !inf.dram<32x64xf32>',
            f'%y = inf.dram "output" "y" : !inf.dram<{32 * self.TILES}x64xf32>',
            "%ps = inf.alloc : !inf.psum<16x64xf32>",
        ] + [f"%t{i} = inf.alloc : {T}" for i in range(self.TILES)] + self.allocs
        body = "\n".join("    " + h for h in head) + "\n" + "\n".join(self.lines)
        return f"builtin.module {{\n  inf.core 0 {{\n{body}\n  }}\n}}\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_have_no_hazards(seed):
    text = _Gen(seed).program(12)
    module = schedule(parse(text))
    x = np.random.default_rng(seed).standard_normal((32, 64)).astype(np.float32)
    res = run(module, {"x": x})
    assert np.isfinite(res.outputs["y"]).all()
    # same IR -> same result when run again (the verdict does not depend on luck)
    np.testing.assert_array_equal(res.outputs["y"], run(module, {"x": x}).outputs["y"])
    # and the oracle can fail: without the waits the same program has hazards
    for wait in _waits(module):
        wait.detach()
    with pytest.raises(HazardError):
        run(module, {"x": x})


def test_large_program_is_scheduled():
    """Hundreds of top-level items: the pass stays far from quadratic."""

    gen = _Gen(123)
    text = gen.program(600)
    module = parse(text)
    schedule(module)
    assert any(isinstance(op, SemSignalOp) for op in module.walk())
    assert any(isinstance(op, LoopOp) for op in module.walk())
