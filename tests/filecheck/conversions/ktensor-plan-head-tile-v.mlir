// RUN: kaena-opt %s -p ktensor-plan-matmul-streams | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// kaena.plan.head_tile on the V projection of a planned attention block: its result lands
// token-major (keys on partitions) in the attention's [128, (head, 64)] v tile. The lhs^T tile's
// token columns are the stationaries (64 tokens at a time, PSUM partitions 0 and 64), the
// weights move, and the drain adds the bias row (copied onto every partition) on the vector
// engine; the attention's context matmuls take their stationaries from that tile: no DMA of v.

func.func @main(%x: tensor<128x128xbf16> {kaena.name = "x"}, %wv: tensor<128x128xbf16> {kaena.name = "wv"}, %bv: tensor<128xf32> {kaena.name = "bv"}, %q: tensor<1x2x128x64xbf16> {kaena.name = "q"}, %k: tensor<1x2x64x128xbf16> {kaena.name = "k"}) -> (tensor<1x2x128x64xf32> {kaena.name = "y"}) {
  %v0 = ktensor.matmul %x, %wv bias %bv {activation = "none"} : (tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xf32>) -> tensor<128x128xf32>
  %v1 = ktensor.reshape %v0 : (tensor<128x128xf32>) -> tensor<1x128x2x64xf32>
  %v2 = ktensor.transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x128x2x64xf32>) -> tensor<1x2x128x64xf32>
  %v = ktensor.cast %v2 : (tensor<1x2x128x64xf32>) -> tensor<1x2x128x64xbf16>
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  func.return %o : tensor<1x2x128x64xf32>
}

// PLAN:      %v0 = ktensor.matmul %x, %wv bias %bv {kaena.plan.epilogue = 3 : i64, kaena.plan.head_tile, activation = "none"}

// CHECK:      %head_v = inf.alloc : !inf.sbuf<128x128xbf16>
// CHECK:      %ps_v = inf.alloc : !inf.psum<128x128xf32>
// CHECK:      inf.dma %w_t {{.*}}, %wv
// CHECK:      inf.load_stationary %x_t <p = 0, n = 128, off = 0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_v <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %w_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>
// CHECK:      inf.load_stationary %x_t <p = 0, n = 128, off = 64, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_v <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %w_t
// CHECK-NEXT: inf.tensor_tensor "add" %head_v <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %ps_v <p = 0, n = 128, off = 0, dims = [[128, 1]]>, %bias_rows_2
// CHECK-NOT:  inf.dma {{.*}}%head_v
// CHECK:      inf.load_stationary %head_v <p = 0, n = 128, off = 64*d0, dims = [[64, 1]]>
// CHECK-NOT:  inf.dma {{.*}}%head_v
// CHECK:      inf.dma %y
