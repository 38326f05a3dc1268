// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', c=np.array(8.0, np.float32))"
// RUN: kaena-opt %t/m.mlir -p convert-tensor-to-inferentia | filecheck %s
// RUN: sed 's/{transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>)/{kaena.plan.attention, kaena.plan.head_groups = 1, transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>)/' %s > %t/one.mlir
// RUN: kaena-opt %t/one.mlir -p convert-tensor-to-inferentia | filecheck %s --check-prefix=ONE
// A planned attention block (kaena.plan.attention) is one loop over heads in SBUF: q^T, k and v
// in by one DMA each per group of heads (kaena.plan.head_groups: the planner prices two groups of
// one head fastest here, so the queue loads head 1 while the engines do head 0; with one group,
// written by hand, every head's in one DMA each before the loop), the per-key mask copied onto
// the query partitions once; per head
// the scores with query tiles on PSUM partitions 0 and 64, the 1/8 scale in the drain, the mask
// added, the softmax along the free dim, the probabilities transposed on the PE array (times an
// identity), the context^T matmul (v stationary); every head's context out by one DMA in the
// merged-heads layout of its epilogue ([seq, heads * 64], bf16).

builtin.module attributes {kaena.weights = "w.npz"} {
func.func @main(%q: tensor<1x2x128x64xbf16> {kaena.name = "q"}, %k: tensor<1x2x64x128xbf16> {kaena.name = "k"}, %v: tensor<1x2x128x64xbf16> {kaena.name = "v"}, %m: tensor<1x1x1x128xf32> {kaena.name = "m"}) -> (tensor<1x128x128xbf16> {kaena.name = "y"}) {
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %c = ktensor.weight "c" : tensor<f32>
  %sd = ktensor.elementwise "div" %s, %c {activation = "none"} : (tensor<1x2x128x128xf32>, tensor<f32>) -> tensor<1x2x128x128xf32>
  %sm = ktensor.elementwise "add" %sd, %m {activation = "none"} : (tensor<1x2x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %sm {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  %ot = ktensor.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x128x64xf32>) -> tensor<1x128x2x64xf32>
  %or = ktensor.reshape %ot : (tensor<1x128x2x64xf32>) -> tensor<1x128x128xf32>
  %ob = ktensor.cast %or : (tensor<1x128x128xf32>) -> tensor<1x128x128xbf16>
  func.return %ob : tensor<1x128x128xbf16>
}
}

// CHECK:      %q_t = inf.alloc : !inf.sbuf<64x256xbf16>
// CHECK-NEXT: %k_t = inf.alloc : !inf.sbuf<64x256xbf16>
// CHECK-NEXT: %v_t = inf.alloc : !inf.sbuf<128x128xbf16>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<64x256xbf16>
// CHECK-NEXT: %ps_s = inf.alloc : !inf.psum<128x128xf32>
// CHECK:      %eye_sq = inf.alloc {kaena.resident} : !inf.sbuf<128x128xbf16>
// CHECK-NEXT: inf.dma %eye_sq <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %t0 <p = 0, n = 128, pstride = -1, off = 127, dims = [[128, 1]]>
// CHECK:      inf.activation "identity" %mask_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %mask_ps
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %q_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>, %q <p = 0, n = 64, pstride = 1, off = 8192*d0, dims = [[128, 64]]>
// CHECK-NEXT: inf.dma %k_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>, %k <p = 0, n = 64, pstride = 128, off = 8192*d0, dims = [[128, 1]]>
// CHECK-NEXT: inf.dma %v_t <p = 0, n = 128, off = 64*d0, dims = [[64, 1]]>, %v <p = 0, n = 128, pstride = 64, off = 8192*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.load_stationary %q_t <p = 0, n = 64, off = 128*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_s <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %k_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>
// CHECK-NEXT: inf.load_stationary %q_t <p = 0, n = 64, off = 64 + 128*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_s <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %k_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>
// CHECK-NEXT: inf.activation "identity" %s_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %ps_s <p = 0, n = 128, off = 0, dims = [[128, 1]]> {scale = 1.250000e-01 : f32}
// CHECK-NEXT: inf.tensor_tensor "add" %s_t {{.*}}, %s_t {{.*}}, %mask_t
// CHECK-NEXT: inf.reduce "max" %max_t {{.*}}, %s_t
// CHECK-NEXT: inf.tensor_scalar "sub" %e_t {{.*}}, %s_t {{.*}} scalar %max_t
// CHECK-NEXT: inf.activation "exp" %e_t
// CHECK-NEXT: inf.reduce "add" %sum_t
// CHECK-NEXT: inf.activation "reciprocal" %sum_t
// CHECK-NEXT: inf.tensor_scalar "mul" %p_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %e_t {{.*}} scalar %sum_t {{.*}} : !inf.sbuf<128x128xbf16>
// CHECK-NEXT: inf.load_stationary %p_t <p = 0, n = 128, off = 0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_pt <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %eye_sq <p = 0, n = 128, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.load_stationary %p_t <p = 0, n = 128, off = 64, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_pt <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %eye_sq
// CHECK-NEXT: inf.activation "identity" %pt_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %ps_pt
// CHECK-NEXT: inf.load_stationary %v_t <p = 0, n = 128, off = 64*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_o <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %pt_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.activation "identity" %o_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>, %ps_o
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %y <p = 0, n = 64, pstride = 1, off = 0, dims = [[2, 64], [128, 128]]>, %o_t <p = 0, n = 64, off = 0, dims = [[256, 1]]>
// CHECK-NEXT: }

// ONE:      inf.activation "identity" %mask_t
// ONE-NEXT: inf.dma %q_t <p = 0, n = 64, off = 0, dims = [[256, 1]]>, %q <p = 0, n = 64, pstride = 1, off = 0, dims = [[2, 8192], [128, 64]]>
// ONE-NEXT: inf.dma %k_t <p = 0, n = 64, off = 0, dims = [[256, 1]]>, %k <p = 0, n = 64, pstride = 128, off = 0, dims = [[2, 8192], [128, 1]]>
// ONE-NEXT: inf.dma %v_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %v <p = 0, n = 128, pstride = 64, off = 0, dims = [[2, 8192], [64, 1]]>
// ONE-NEXT: inf.loop 2 {
// ONE-NEXT: inf.load_stationary %q_t <p = 0, n = 64, off = 128*d0, dims = [[64, 1]]>
// ONE-NOT:  inf.dma %q_t
// ONE:      inf.dma %y
