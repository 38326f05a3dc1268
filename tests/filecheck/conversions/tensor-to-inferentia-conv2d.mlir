// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Strided, padded conv2d: the image is zero-padded in SBUF (memset, then the interior by DMA),
// one matmul per kernel tap (kh, kw loops) with the moving window as a strided access pattern.

func.func @main(%x: tensor<2x3x10x10xbf16> {kaena.name = "x"}) -> (tensor<2x8x5x5xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "conv.w" : tensor<8x3x3x3xbf16>
  %b = ktensor.weight "conv.b" : tensor<8xf32>
  %y = ktensor.conv2d %x, %w bias %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x3x10x10xbf16>, tensor<8x3x3x3xbf16>, tensor<8xf32>) -> tensor<2x8x5x5xf32>
  func.return %y : tensor<2x8x5x5xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<2x3x10x10xbf16>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x8x5x5xf32>
// CHECK-NEXT: %conv.w = inf.dram "file" "conv.w" : !inf.dram<8x3x3x3xbf16>
// CHECK-NEXT: %conv.b = inf.dram "file" "conv.b" : !inf.dram<8xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<3x144xbf16>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<3x72xbf16>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<8x25xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<8x25xf32>
// CHECK-NEXT: %b_t = inf.alloc : !inf.sbuf<8x1xf32>
// CHECK-NEXT: inf.dma %b_t <p = 0, n = 8, off = 0, dims = [[1, 1]]>, %conv.b <p = 0, n = 8, pstride = 1, off = 0, dims = [[1, 8]]> : !inf.sbuf<8x1xf32>, !inf.dram<8xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 3, off = 0, dims = [[72, 1]]>, %conv.w <p = 0, n = 3, pstride = 9, off = 0, dims = [[8, 27], [9, 1]]> : !inf.sbuf<3x72xbf16>, !inf.dram<8x3x3x3xbf16>
// CHECK-NEXT: inf.memset %x_t <p = 0, n = 3, off = 0, dims = [[144, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<3x144xbf16>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 3, off = 13, dims = [[10, 12], [10, 1]]>, %x <p = 0, n = 3, pstride = 100, off = 300*d0, dims = [[100, 1]]> : !inf.sbuf<3x144xbf16>, !inf.dram<2x3x10x10xbf16>
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 3, off = 3*d1 + 1*d2, dims = [[8, 9]]> : !inf.sbuf<3x72xbf16>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 8, off = 0, dims = [[25, 1]]>, %x_t <p = 0, n = 3, off = 12*d1 + 1*d2, dims = [[5, 24], [5, 2]]> {accumulate = #inf.expr<1*d1 + 1*d2>} : !inf.psum<8x25xf32>, !inf.sbuf<3x144xbf16>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 8, off = 0, dims = [[5, 5], [5, 1]]>, %ps <p = 0, n = 8, off = 0, dims = [[25, 1]]> bias %b_t {bias_ap = #inf.ap<p = 0, n = 8, off = 0, dims = [[1, 1]]>} : !inf.sbuf<8x25xf32>, !inf.psum<8x25xf32>, !inf.sbuf<8x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 8, pstride = 25, off = 200*d0, dims = [[25, 1]]>, %o_t <p = 0, n = 8, off = 0, dims = [[25, 1]]> : !inf.dram<2x8x5x5xf32>, !inf.sbuf<8x25xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
