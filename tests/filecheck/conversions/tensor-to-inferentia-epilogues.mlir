// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', c=np.array(8.0, np.float32), wq=np.zeros((128, 128), np.float32))"
// RUN: kaena-opt %t/m.mlir -p convert-tensor-to-inferentia | filecheck %s
// The planned epilogues (ktensor-plan-epilogues.mlir) in the lowering: the query projection's
// result DMA writes the [heads, seq, 64] layout in bf16 (two heads 512 elements apart, a row
// every 64, features on partitions) and no transpose or cast follows; the scores' drain is
// identity(psum * 0.125 + mask[key]) with the mask loaded once per key partition, before the
// head loop; a product by the constant folds as scale 8; the division of the constant by the
// scores and the query-varying mask stay elementwise ops.

builtin.module attributes {kaena.weights = "w.npz"} {
func.func @main(%x: tensor<8x128xbf16> {kaena.name = "x"}, %k: tensor<1x2x64x8xbf16> {kaena.name = "k"}, %mask: tensor<1x1x1x8xf32> {kaena.name = "mask"}, %causal: tensor<1x1x8x8xf32> {kaena.name = "causal"}) -> (tensor<1x2x8x8xbf16> {kaena.name = "p"}, tensor<1x2x8x8xf32> {kaena.name = "r"}, tensor<1x2x8x8xf32> {kaena.name = "u"}) {
  %wq = ktensor.weight "wq" : tensor<128x128xbf16>
  %q = ktensor.matmul %x, %wq {activation = "none"} : (tensor<8x128xbf16>, tensor<128x128xbf16>) -> tensor<8x128xf32>
  %q4 = ktensor.reshape %q : (tensor<8x128xf32>) -> tensor<1x8x2x64xf32>
  %qt = ktensor.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x2x64xf32>) -> tensor<1x2x8x64xf32>
  %qb = ktensor.cast %qt : (tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xbf16>
  %s = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %c = ktensor.weight "c" : tensor<f32>
  %sd = ktensor.elementwise "div" %s, %c {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %sm = ktensor.elementwise "add" %sd, %mask {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
  %p = ktensor.softmax %sm {axis = 3 : i64} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %pb = ktensor.cast %p : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xbf16>
  %r = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %rd = ktensor.elementwise "div" %c, %r {activation = "none"} : (tensor<f32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %u = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %um = ktensor.elementwise "mul" %u, %c {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %uc = ktensor.elementwise "add" %um, %causal {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<1x2x8x8xf32>
  func.return %pb, %rd, %uc : tensor<1x2x8x8xbf16>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
}
}


// CHECK:      inf.activation "identity" %o_t <p = 0, n = 64, off = 8*d0, dims = [[8, 1]]>, %ps <p = 0, n = 64, off = 0, dims = [[8, 1]]> : !inf.sbuf<64x16xbf16>, !inf.psum<64x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %t0 <p = 0, n = 64, pstride = 1, off = 0, dims = [[2, 512], [8, 64]]>, %o_t <p = 0, n = 64, off = 0, dims = [[16, 1]]> : !inf.dram<1x2x8x64xbf16>, !inf.sbuf<64x16xbf16>
// CHECK-NOT:  inf.tensor_tensor
// CHECK:      inf.dma %b_t <p = 0, n = 8, off = 0, dims = [[1, 1]]>, %mask <p = 0, n = 8, pstride = 1, off = 0, dims = [[1, 8]]>
// CHECK-NEXT: inf.loop 2 {
// CHECK:      inf.activation "identity" %o_t_1 {{.*}}, %ps_1 {{.*}} bias %b_t {bias_ap = #inf.ap<p = 0, n = 8, off = 0, dims = [[1, 1]]>, scale = 1.250000e-01 : f32}
// CHECK-NOT:  inf.tensor_tensor
// CHECK:      inf.tensor_scalar "mul" %y_t {{.*}} : !inf.sbuf<16x8xbf16>
// CHECK:      inf.tensor_tensor "div"
// CHECK:      inf.activation "identity" %o_t_4 {{.*}} {scale = 8.000000e+00 : f32}
// CHECK-NOT:  inf.tensor_tensor "mul"
// CHECK:      inf.tensor_tensor "add"
