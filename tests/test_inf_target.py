"""The target read from the module (``kaena.target``, set by ``inf-set-target``)
by the inf verifiers, the allocator, the semaphore pass and the encoder, and
from the NEFF by its reader and the simulator; plus the inf ops' typed
constructors and enum properties."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import f32
from xdsl.ir import Block, Region
from xdsl.utils.exceptions import VerifyException

from kaena.codegen import emit_neff
from kaena.dialects import inferentia as inf
from kaena.errors import AllocationError, NeffError
from kaena.isa import ActFunc, AluOp, Engine
from kaena.neff import Neff
from kaena.neff.container import archive_members, read_neff_bytes, write_neff_bytes
from kaena.passes.transforms.inf.inf_allocate_sram import AllocateSramPass
from kaena.passes.transforms.inf.inf_insert_semaphores import InsertSemaphoresPass
from kaena.passes.transforms.inf.inf_set_target import SetTargetPass
from kaena.simulator import simulate
from kaena.target import INF1, TARGETS, target_of
from kaena.target.tiling import Budgets, weight_blocks
from kaena.weights import WeightStore
from test_insert_semaphores import parse

TINY = dataclasses.replace(INF1, name="tiny", partitions=64, sbuf_bytes_per_partition=1024, pe_rows=64,
                           pe_columns=32, pe_max_moving=128, semaphores_per_core=16,
                           psum_matmul_partition_starts=(0, 32))


@pytest.fixture
def tiny():
    TARGETS["tiny"] = TINY
    yield TINY
    del TARGETS["tiny"]


def module_for(target: str | None, body: str):
    attr = f' attributes {{kaena.target = "{target}"}}' if target else ""
    return parse(f"builtin.module{attr} {{\n  inf.core 0 {{\n{body}\n  }}\n}}\n")


@pytest.mark.parametrize("body, message", [
    ("%a = inf.alloc : !inf.sbuf<128x4xf32>", "inf.sbuf has 128 partitions, the core has 64"),
    ("%a = inf.alloc : !inf.sbuf<4x512xf32>", "inf.sbuf tile needs 2048 bytes per partition, SBUF has 1024"),
    ("%a = inf.alloc {partition = 32 : i64, offset = 0 : i64} : !inf.sbuf<64x4xf32>",
     "'inf.alloc' partitions [32, 96) exceed the 64 partitions"),
    ("%a = inf.alloc : !inf.sbuf<128x128xbf16>\n"
     "inf.load_stationary %a <p = 0, n = 128, off = 0, dims = [[64, 1]]> : !inf.sbuf<128x128xbf16>",
     "inf.sbuf has 128 partitions"),
    ("%a = inf.alloc : !inf.sbuf<64x128xbf16>\n"
     "inf.load_stationary %a <p = 0, n = 64, off = 0, dims = [[64, 1]]> : !inf.sbuf<64x128xbf16>",
     "the PE array takes at most [64, 32]"),
    ("%a = inf.alloc : !inf.sbuf<64x256xbf16>\n%p = inf.alloc : !inf.psum<32x256xf32>\n"
     "inf.matmul %p <p = 0, n = 32, off = 0, dims = [[200, 1]]>, %a <p = 0, n = 64, off = 0, dims = [[200, 1]]>"
     " : !inf.psum<32x256xf32>, !inf.sbuf<64x256xbf16>", "at most [64, 128]"),
    ("%a = inf.alloc : !inf.sbuf<4x4xf32>\ninf.sem_signal \"pe\" 20", "semaphore 20 out of range: a core has 16"),
])
def test_a_smaller_target_changes_what_the_verifiers_accept(tiny, body, message):
    """The same IR verifies for inf1 (the default, and when named) and not for 'tiny'."""
    module_for(None, body).verify()
    module_for("inf1", body).verify()
    with pytest.raises(VerifyException, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        module_for("tiny", body).verify()


def test_target_of_walks_to_the_module_and_defaults_to_inf1(tiny):
    m = module_for("tiny", "%a = inf.alloc : !inf.sbuf<4x4xf32>")
    alloc = next(op for op in m.walk() if isinstance(op, inf.AllocOp))
    assert target_of(alloc) is TINY
    plain = module_for(None, "%a = inf.alloc : !inf.sbuf<4x4xf32>")
    assert target_of(next(op for op in plain.walk() if isinstance(op, inf.CoreOp))) is INF1
    SetTargetPass(target="inf1").apply(Context(), m)
    assert target_of(alloc) is INF1


def test_allocator_fills_the_modules_target(tiny):
    body = "%a = inf.alloc : !inf.sbuf<64x192xf32>\n%b = inf.alloc : !inf.sbuf<64x192xf32>\n" + "\n".join(
        f"inf.memset %{n} <p = 0, n = 64, off = 0, dims = [[192, 1]]> {{value = 0.0 : f32}} : !inf.sbuf<64x192xf32>"
        for n in "aba")
    m = module_for(None, body)
    AllocateSramPass().apply(Context(), m)  # 2 x 768 bytes per partition fit inf1's 96 KiB
    m = module_for("tiny", body.replace("%b = inf.alloc", '%b = inf.alloc {kaena.source = ["conv1"]}'))
    with pytest.raises(AllocationError, match=r"SBUF tile %b \(!inf.sbuf<64x192xf32>\) of node 'conv1' does not fit"):
        # both live at once (a is used again after b): 1536 > 1024 bytes
        AllocateSramPass().apply(Context(), m)


def test_allocator_error_names_the_tiles_source_nodes():
    body = ('%a = inf.alloc : !inf.sbuf<128x24576xf32>\n'
            '%b = inf.alloc {kaena.source = ["conv1", "relu1"]} : !inf.sbuf<128x24576xf32>\n'
            "inf.memset %a <p = 0, n = 128, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x24576xf32>\n"
            "inf.memset %b <p = 0, n = 128, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x24576xf32>\n"
            "inf.memset %a <p = 0, n = 128, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x24576xf32>")
    with pytest.raises(AllocationError, match=r"SBUF tile %b \(!inf.sbuf<128x24576xf32>\) of nodes 'conv1', 'relu1' does not fit"):
        AllocateSramPass().apply(Context(), module_for(None, body))


def test_semaphore_pass_uses_the_modules_target(tiny):
    body = ("%x = inf.dram \"input\" \"x\" : !inf.dram<4x4xf32>\n%y = inf.dram \"output\" \"y\" : !inf.dram<4x4xf32>\n"
            "%a = inf.alloc : !inf.sbuf<4x4xf32>\n"
            "inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]>"
            " : !inf.sbuf<4x4xf32>, !inf.dram<4x4xf32>\n"
            "inf.activation \"relu\" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>"
            " : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>\n"
            "inf.dma %y <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>"
            " : !inf.dram<4x4xf32>, !inf.sbuf<4x4xf32>")
    m = module_for("tiny", body)
    AllocateSramPass().apply(Context(), m)
    InsertSemaphoresPass().apply(Context(), m)
    m.verify()
    sems = [op.sem.value.data for op in m.walk() if isinstance(op, inf.SemSignalOp)]
    assert sems and max(sems) < TINY.semaphores_per_core
    neff = emit_neff(m, WeightStore(), name="t", compiler_version="test")
    assert neff.target == "tiny"
    data = write_neff_bytes(neff)
    assert b'"target":"tiny"' in archive_members(neff)["neff.json"]
    back = read_neff_bytes(data)
    assert back.target == "tiny" and back.target_description is TINY
    x = np.arange(16, dtype=np.float32).reshape(4, 4) - 8
    assert np.array_equal(simulate(back, {"x": x}).outputs["y"], np.maximum(x, 0))


def test_neff_reader_bounds_sizes_by_the_declared_target(tiny):
    """A NEFF valid for inf1 is refused when it declares a target whose SBUF is smaller."""
    from kaena.simulator.builder import Program, row, sbuf
    from kaena.isa import Opcode

    p = Program()
    p.add(Engine.POOL, Opcode.MEMSET, out=sbuf(0, 64, row(1024)), imm=1.0)  # 64 x 4 KiB = 256 KiB > tiny's 64 KiB
    neff = p.neff()
    read_neff_bytes(write_neff_bytes(neff))
    neff.target = "tiny"
    with pytest.raises(NeffError, match="iterates 262144 bytes, more than 65536"):
        read_neff_bytes(write_neff_bytes(neff))
    neff.target = "inf1"
    members = archive_members(neff)
    members["neff.json"] = members["neff.json"].replace(b'"target":"inf1"', b'"target":"nosuch"')
    from kaena.neff.container import pack_members

    with pytest.raises(NeffError, match="'target' 'nosuch' is not a known target"):
        pack_members(members)


def test_neff_without_a_target_reads_as_inf1():
    from kaena.neff.container import pack_members
    import json

    from kaena.simulator.builder import Program

    members = archive_members(Program().neff())
    top = json.loads(members["neff.json"])
    del top["target"]
    top["version"]["minor"] = 1
    members["neff.json"] = json.dumps(top).encode()
    assert Neff.from_bytes(pack_members(members)).target == "inf1"


# --- typed constructors and enum properties ----------------------------------------------


def _core_block():
    core = inf.CoreOp(0, Region(Block()))
    return core, core.body.block


def test_typed_constructors_take_the_enum_or_its_name():
    core, block = _core_block()
    a = inf.AllocOp(inf.SbufType([4, 4], f32))
    block.add_op(a)
    ap4 = inf.ap(0, 4, 0, [(4, 1)])
    ap1 = inf.ap(0, 4, 0, [(1, 1)])
    ops = [
        inf.ActivationOp(ActFunc.GELU, a.result, ap4, a.result, ap4, scale=2.0),
        inf.ActivationOp("relu", a.result, ap4, a.result, ap4, a.result, ap1, imm=0.5),
        inf.TensorTensorOp(AluOp.SUB, a.result, ap4, a.result, ap4, a.result, ap4),
        inf.TensorScalarOp("mul", a.result, ap4, a.result, ap4, imm=3.0),
        inf.TensorScalarOp(AluOp.DIV, a.result, ap4, a.result, ap4, a.result, ap1),
        inf.ReduceOp("max", a.result, ap1, a.result, ap4, axes=1, scale=0.25),
        inf.TransposeOp(a.result, ap4, a.result, ap4),
        inf.MemsetOp(a.result, ap4, -1.5),
        inf.SemSignalOp("pe", 3),
        inf.SemWaitOp(Engine.ACT, 3, 1),
    ]
    for op in ops:
        block.add_op(op)
    core.verify()
    assert ops[0].act_func == ActFunc.GELU and ops[1].func.isa == ActFunc.RELU
    assert isinstance(ops[2].alu, inf.AluOpAttr) and ops[2].alu.isa == AluOp.SUB
    assert ops[5].alu.data == inf.AluOpName.MAX == "max"
    assert ops[8].engine_of() == Engine.PE and ops[9].engine_of() == Engine.ACT
    with pytest.raises(VerifyException, match="activation function must be one of identity, relu"):
        inf.ActivationOp("swish", a.result, ap4, a.result, ap4)


def test_enum_names_mirror_the_isa():
    assert [m.name for m in inf.ActFuncName] == [m.name for m in ActFunc]
    assert [m.name for m in inf.AluOpName] == [m.name for m in AluOp]
    assert [m.value for m in inf.EngineName] == [e.stream_name for e in Engine]


def test_import_kaena_sets_no_blas_variables():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = ("import os, kaena; print(sorted(k for k in os.environ if k.endswith('_NUM_THREADS')))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_weight_blocks_stream_through_two_buffers_of_half_the_budget():
    """Weights over their budget stream in blocks through two buffers of at most half of it
    (the next block loads while the PE array runs over this one); where whole resident
    channel tiles do not allow halves, through one buffer of the budget's size."""
    t = INF1
    big = Budgets.of(t).big
    # ResNet-50's layer4 3x3 in BF16: 512 x 4 channel tiles x 9 taps x 2 bytes = the big budget
    assert weight_blocks(t, 512, 512, 3, 3, 2, False) == (128, 64, 512, 1)
    # FP32: twice the budget, in four blocks of 128 outputs, two buffers of a quarter each
    Pc, otw, Ob, buffers = weight_blocks(t, 512, 512, 3, 3, 4, False)
    assert (Ob, buffers) == (128, 2) and 2 * 4 * Ob * 9 * 4 <= big
    # a narrowed budget (kaena.plan.weight_block) of 13,200 bytes over whole 128-channel tiles:
    # halves of 6 tiles, not one buffer of 12
    assert weight_blocks(t, 512, 2048, 1, 1, 2, False, 128, 128, 13200)[2:] == (768, 2)
    # one channel tile's block is the least: one buffer, no halves
    assert weight_blocks(t, 256, 1024, 1, 1, 2, False, 128, 128, 544)[2:] == (128, 1)
