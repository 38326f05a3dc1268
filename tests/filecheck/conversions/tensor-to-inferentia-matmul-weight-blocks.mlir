// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A matmul with kaena.plan.weight_blocks = 8 (planned): the bias and lhs^T in first, then one loop
// over the 8 column blocks, each its weight DMA into its own contiguous part of the weight tile
// (block-major: 2304 elements per block, so the next block's load never waits for this block's
// reads) and its 6 output tiles (K accumulated in PSUM, GELU and bias in the drain); the out^T
// tiles of all 3072 features written back by one DMA.

func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %w: tensor<768x3072xbf16> {kaena.name = "w"}, %b: tensor<3072xf32> {kaena.name = "b"}) -> (tensor<128x3072xbf16> {kaena.name = "y"}) {
  %y = ktensor.matmul %x, %w bias %b {kaena.plan.weight_blocks = 8 : i64, activation = "gelu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>, tensor<3072xf32>) -> tensor<128x3072xf32>
  %yb = ktensor.cast %y : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  func.return %yb : tensor<128x3072xbf16>
}

// CHECK:      %w_t = inf.alloc : !inf.sbuf<128x18432xbf16>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<128x768xbf16>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<64x128xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<64x6144xbf16>
// CHECK-NEXT: %b_t = inf.alloc : !inf.sbuf<64x48xf32>
// CHECK-NEXT: inf.dma %b_t <p = 0, n = 64, off = 0, dims = [[48, 1]]>, %b
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 128, off = 0, dims = [[768, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 0, dims = [[6, 128], [128, 768]]>
// CHECK-NEXT: inf.loop 8 {
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 128, off = 2304*d0, dims = [[2304, 1]]>, %w <p = 0, n = 128, pstride = 3072, off = 384*d0, dims = [[6, 393216], [384, 1]]>
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 2304*d0 + 64*d1 + 384*d2, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %x_t <p = 0, n = 128, off = 128*d2, dims = [[128, 1]]> {accumulate = #inf.expr<1*d2>}
// CHECK-NEXT: }
// CHECK-NEXT: inf.activation "gelu" %o_t <p = 0, n = 64, off = 768*d0 + 128*d1, dims = [[128, 1]]>, %ps <p = 0, n = 64, off = 0, dims = [[128, 1]]> bias %b_t {bias_ap = #inf.ap<p = 0, n = 64, off = 6*d0 + 1*d1, dims = [[1, 1]]>}
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %y <p = 0, n = 64, pstride = 1, off = 0, dims = [[48, 64], [128, 3072]]>, %o_t <p = 0, n = 64, off = 0, dims = [[6144, 1]]>
