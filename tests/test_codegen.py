"""kaena.codegen.emit_neff: record fields per op kind, loop unrolling order
(numpy, affine fields), variables, determinism and refusals."""

from __future__ import annotations


import numpy as np
import pytest
from xdsl.context import Context

from kaena.codegen import emit_neff
from kaena.errors import CompileError
from kaena.isa import ActFunc, AluOp, DType, Engine, Flags, Mem, Opcode, stream_errors
from kaena.passes.transforms.inf.inf_allocate_sram import AllocateSramPass
from kaena.target import INF1
from kaena.weights import WeightStore
from test_insert_semaphores import parse

PROGRAM = """
builtin.module {
  inf.core 0 attributes {kaena.sbuf_peak_bytes = 1234 : i64, kaena.psum_peak_bytes = 56 : i64} {
    %x = inf.dram "input" "x" : !inf.dram<4x64xf32>
    %w = inf.dram "file" "w" : !inf.dram<64x32xbf16>
    %t = inf.dram "tmp" "t0" : !inf.dram<8x8xf32>
    %y = inf.dram "output" "y" : !inf.dram<32x4xf32>
    %xs = inf.alloc {partition = 0 : i64, offset = 256 : i64} : !inf.sbuf<64x8xf32>
    %ws = inf.alloc {partition = 32 : i64, offset = 0 : i64} : !inf.sbuf<64x32xbf16>
    %ps = inf.alloc {partition = 64 : i64, offset = 1024 : i64} : !inf.psum<32x4xf32>
    %o = inf.alloc {partition = 0 : i64, offset = 512 : i64} : !inf.sbuf<32x4xf32>
    %b = inf.alloc {partition = 0 : i64, offset = 640 : i64} : !inf.sbuf<32x1xf32>
    inf.loop 2 {
      inf.loop 3 {
        inf.dma %xs <p = 0, n = 64, off = 1*d1 + 2, dims = [[2, 1]]>, %x <p = 0, n = 64, pstride = 1, off = 3 + 2*d0 + 1*d1, dims = [[2, 64]]> : !inf.sbuf<64x8xf32>, !inf.dram<4x64xf32>
        inf.sem_signal "dma" 9
      }
      inf.sem_wait "pe" 9, <3 + 3*d0>
      inf.matmul %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %xs <p = 0, n = 64, off = 4*d0, dims = [[4, 1]]> {accumulate = #inf.expr<1*d0>} : !inf.psum<32x4xf32>, !inf.sbuf<64x8xf32>
    }
    inf.load_stationary %ws <p = 32, n = 32, off = 0, dims = [[32, 1]]> : !inf.sbuf<64x32xbf16>
    inf.activation "gelu" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> bias %b {bias_ap = #inf.ap<p = 0, n = 32, off = 0, dims = [[1, 1]]>, scale = 2.0 : f32, imm = 0.5 : f32} : !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>, !inf.sbuf<32x1xf32>
    inf.tensor_tensor "sub" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>
    inf.tensor_scalar "div" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> scalar %b {scalar_ap = #inf.ap<p = 0, n = 32, off = 0, dims = [[1, 1]]>} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x1xf32>
    inf.tensor_scalar "mul" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> {imm = 3.0 : f32} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
    inf.reduce "max" %b <p = 0, n = 32, off = 0, dims = [[1, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[2, 2], [2, 1]]> {axes = 2 : i64, scale = 0.25 : f32} : !inf.sbuf<32x1xf32>, !inf.sbuf<32x4xf32>
    inf.transpose %xs <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<64x8xf32>, !inf.sbuf<32x4xf32>
    inf.memset %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> {value = -1.5 : f32} : !inf.sbuf<32x4xf32>
    inf.dma %y <p = 0, n = 32, pstride = 1, off = 0, dims = [[4, 32]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.dram<32x4xf32>, !inf.sbuf<32x4xf32>
  }
}
"""

W = np.arange(64 * 32, dtype=np.float32).reshape(64, 32)


def encode(text: str = PROGRAM, **kw):
    return emit_neff(parse(text), WeightStore({"w": W}), name="m", compiler_version="0.1", **kw)


def test_variables_and_specs():
    neff = encode(metadata={"k": 1})
    sg = neff.subgraphs[0]
    assert [(v.name, v.kind, v.shape, v.dtype) for v in sg.variables] == [
        ("x", "input", (4, 64), "float32"),
        ("w", "file", (64, 32), "bfloat16"),
        ("t0", "tmp-buf", (8, 8), "float32"),
        ("y", "output", (32, 4), "float32"),
    ]
    assert sg.variables[1].data.dtype.name == "bfloat16"
    np.testing.assert_array_equal(sg.variables[1].data, W.astype(sg.variables[1].data.dtype))
    assert [(t.name, t.shape, t.dtype) for t in neff.inputs] == [("x", (4, 64), "float32")]
    assert [(t.name, t.shape) for t in neff.outputs] == [("y", (32, 4))]
    assert (sg.sbuf_peak_bytes, sg.psum_peak_bytes) == (1234, 56)
    # the caller's metadata, and the allocation table the encoder adds (kaena.neff.allocation)
    assert {k: v for k, v in neff.metadata.items() if k != "allocation"} == {"k": 1}
    assert len(neff.metadata["allocation"]["subgraphs"][0]["tiles"]) > 0 and neff.compiler_version == "0.1"


def test_streams_are_valid_and_deterministic():
    a, b = encode(), encode()
    for e in Engine:
        assert stream_errors(a.subgraphs[0].stream(e), e, 4, INF1.semaphores_per_core) is None
        assert a.subgraphs[0].stream(e).tobytes() == b.subgraphs[0].stream(e).tobytes()
    assert a.to_bytes() == b.to_bytes()


def test_loop_unrolling_order_and_affine_fields():
    sg = encode().subgraphs[0]
    dma = sg.stream(Engine.DMA)
    loads = dma[dma["opcode"] == Opcode.DMA][:6]
    # d0 outer, d1 inner: trips (0,0) (0,1) (0,2) (1,0) (1,1) (1,2)
    d0 = np.repeat(np.arange(2), 3)
    d1 = np.tile(np.arange(3), 2)
    np.testing.assert_array_equal(loads["out"]["offset"], 256 + (d1 + 2) * 4)
    np.testing.assert_array_equal(loads["in0"]["offset"], (3 + 2 * d0 + d1) * 4)
    assert (loads["in0"]["mem"] == Mem.DRAM).all() and (loads["in0"]["var"] == 0).all()
    assert (loads["in0"]["partition_stride"] == 1).all()
    np.testing.assert_array_equal(loads["in0"]["counts"], [[2, 1, 1, 1]] * 6)
    np.testing.assert_array_equal(loads["in0"]["strides"], [[64, 0, 0, 0]] * 6)
    # each DMA is followed by its signal, in program order
    ops = dma["opcode"][:12]
    np.testing.assert_array_equal(ops, [Opcode.DMA, Opcode.SEM_SIGNAL] * 6)
    pe = sg.stream(Engine.PE)
    np.testing.assert_array_equal(
        pe["opcode"], [Opcode.SEM_WAIT, Opcode.MATMUL, Opcode.SEM_WAIT, Opcode.MATMUL, Opcode.LOAD_STATIONARY]
    )
    np.testing.assert_array_equal(pe["sem_value"][[0, 2]], [3, 6])
    mm = pe[pe["opcode"] == Opcode.MATMUL]
    np.testing.assert_array_equal(mm["flags"], [0, Flags.ACCUMULATE])
    np.testing.assert_array_equal(mm["in1"]["offset"], [256, 256 + 16])
    assert (mm["out"]["mem"] == Mem.PSUM).all() and (mm["out"]["start_partition"] == 64).all()
    assert (mm["out"]["offset"] == 1024).all() and (mm["in0"]["mem"] == Mem.NONE).all()
    ls = pe[-1]
    assert ls["in0"]["start_partition"] == 64 and ls["in0"]["dtype"] == DType.BF16


def test_fields_per_op_kind():
    sg = encode().subgraphs[0]
    act = sg.stream(Engine.ACT)[0]
    assert act["opcode"] == Opcode.ACTIVATE and act["func"] == ActFunc.GELU
    assert (act["scale"], act["imm"]) == (2.0, 0.5)
    assert act["in0"]["mem"] == Mem.PSUM and act["in1"]["mem"] == Mem.SBUF and act["in1"]["offset"] == 640
    pool = sg.stream(Engine.POOL)
    assert list(pool["opcode"]) == [Opcode.TENSOR_TENSOR, Opcode.TENSOR_SCALAR, Opcode.TENSOR_SCALAR,
                                    Opcode.REDUCE, Opcode.TRANSPOSE, Opcode.MEMSET]
    tt, ts1, ts2, red, tr, ms = pool
    assert tt["alu"] == AluOp.SUB and tt["in1"]["mem"] == Mem.PSUM
    assert ts1["alu"] == AluOp.DIV and ts1["in1"]["mem"] == Mem.SBUF and ts1["imm"] == 0.0
    assert ts2["alu"] == AluOp.MUL and ts2["in1"]["mem"] == Mem.NONE and ts2["imm"] == 3.0
    assert red["alu"] == AluOp.MAX and red["axes"] == 2 and red["scale"] == 0.25
    np.testing.assert_array_equal(red["in0"]["strides"], [2, 1, 0, 0])
    np.testing.assert_array_equal(red["in0"]["counts"], [2, 2, 1, 1])
    assert red["in0"]["ndims"] == 2
    assert tr["out"]["num_partitions"] == 4 and tr["out"]["offset"] == 256
    assert ms["imm"] == -1.5 and ms["out"]["offset"] == 512
    out = sg.stream(Engine.DMA)[-1]
    assert out["out"]["var"] == 3 and out["in0"]["mem"] == Mem.SBUF
    # tags are pre-order walk indices of the originating ops
    dma = sg.stream(Engine.DMA)
    assert len(set(dma["tag"][0:12:2].tolist())) == 1  # one op, six trips
    assert dma["tag"][0] != dma["tag"][1] and dma["tag"][0] < dma["tag"][1] < out["tag"]


def test_refuses_unallocated_and_missing_semaphores():
    text = PROGRAM.replace("{partition = 0 : i64, offset = 512 : i64} ", "")
    with pytest.raises(CompileError, match="run inf-allocate-sram"):
        encode(text)
    no_sems = "\n".join(l for l in PROGRAM.splitlines() if "inf.sem_" not in l)
    with pytest.raises(CompileError, match="run inf-insert-semaphores"):
        encode(no_sems)


def test_weight_shape_mismatch_is_a_compile_error():
    with pytest.raises(CompileError, match="weight 'w'"):
        emit_neff(parse(PROGRAM), WeightStore({"w": np.zeros((3, 3), np.float32)}), name="m",
                  compiler_version="0")


def test_large_loop_nest_encodes_from_a_few_ops():
    """~10^6 records come from a few ops in loops, unrolled with numpy."""
    text = """
builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x1024xf32>
    inf.loop 100 {
      inf.loop 100 {
        inf.loop 25 {
          inf.memset %a <p = 0, n = 128, off = 8*d2, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x1024xf32>
          inf.tensor_scalar "add" %a <p = 0, n = 128, off = 8*d2 + 512, dims = [[8, 1]]>, %a <p = 0, n = 128, off = 8*d2, dims = [[8, 1]]> {imm = 1.0 : f32} : !inf.sbuf<128x1024xf32>, !inf.sbuf<128x1024xf32>
        }
      }
    }
  }
}
"""
    module = parse(text)
    AllocateSramPass().apply(Context(), module)
    assert sum(1 for _ in module.walk()) < 20  # the IR stays a loop nest: the encoder unrolls
    neff = emit_neff(module, WeightStore(), name="big", compiler_version="0")
    pool = neff.subgraphs[0].stream(Engine.POOL)
    assert len(pool) == 2 * 100 * 100 * 25
    np.testing.assert_array_equal(pool["out"]["offset"][:4], [0, 2048, 32, 2080])
    assert pool["out"]["offset"][-1] == (8 * 24 + 512) * 4
