// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Strided, padded conv2d with few channels: (kh, c) pairs folded onto 9 contraction partitions,
// each a row-shifted copy of its channel (one DMA per kh), zero padding filled once; one matmul per kw tap.
// The weights are DMAd first (the DMA queue is in order: they stream ahead of the work).

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
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<9x60xbf16>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<9x24xbf16>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<8x25xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<8x25xf32>
// CHECK-NEXT: %b_t = inf.alloc : !inf.sbuf<8x1xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 3, off = 0, dims = [[24, 1]]>, %conv.w <p = 0, n = 3, pstride = 9, off = 0, dims = [[8, 27], [3, 1]]> : !inf.sbuf<9x24xbf16>, !inf.dram<8x3x3x3xbf16>
// CHECK-NEXT: inf.dma %w_t <p = 3, n = 3, off = 0, dims = [[24, 1]]>, %conv.w <p = 0, n = 3, pstride = 9, off = 3, dims = [[8, 27], [3, 1]]> : !inf.sbuf<9x24xbf16>, !inf.dram<8x3x3x3xbf16>
// CHECK-NEXT: inf.dma %w_t <p = 6, n = 3, off = 0, dims = [[24, 1]]>, %conv.w <p = 0, n = 3, pstride = 9, off = 6, dims = [[8, 27], [3, 1]]> : !inf.sbuf<9x24xbf16>, !inf.dram<8x3x3x3xbf16>
// CHECK-NEXT: inf.dma %b_t <p = 0, n = 8, off = 0, dims = [[1, 1]]>, %conv.b <p = 0, n = 8, pstride = 1, off = 0, dims = [[1, 8]]> : !inf.sbuf<8x1xf32>, !inf.dram<8xf32>
// CHECK-NEXT: inf.memset %x_t <p = 0, n = 9, off = 0, dims = [[60, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<9x60xbf16>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 3, off = 13, dims = [[4, 12], [10, 1]]>, %x <p = 0, n = 3, pstride = 100, off = 10 + 300*d0, dims = [[4, 20], [10, 1]]> : !inf.sbuf<9x60xbf16>, !inf.dram<2x3x10x10xbf16>
// CHECK-NEXT: inf.dma %x_t <p = 3, n = 3, off = 1, dims = [[5, 12], [10, 1]]>, %x <p = 0, n = 3, pstride = 100, off = 300*d0, dims = [[5, 20], [10, 1]]> : !inf.sbuf<9x60xbf16>, !inf.dram<2x3x10x10xbf16>
// CHECK-NEXT: inf.dma %x_t <p = 6, n = 3, off = 1, dims = [[5, 12], [10, 1]]>, %x <p = 0, n = 3, pstride = 100, off = 10 + 300*d0, dims = [[5, 20], [10, 1]]> : !inf.sbuf<9x60xbf16>, !inf.dram<2x3x10x10xbf16>
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 9, off = 1*d1, dims = [[8, 3]]> : !inf.sbuf<9x24xbf16>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 8, off = 0, dims = [[25, 1]]>, %x_t <p = 0, n = 9, off = 1*d1, dims = [[5, 12], [5, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<8x25xf32>, !inf.sbuf<9x60xbf16>
// CHECK-NEXT: }
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 8, off = 0, dims = [[5, 5], [5, 1]]>, %ps <p = 0, n = 8, off = 0, dims = [[25, 1]]> bias %b_t {bias_ap = #inf.ap<p = 0, n = 8, off = 0, dims = [[1, 1]]>} : !inf.sbuf<8x25xf32>, !inf.psum<8x25xf32>, !inf.sbuf<8x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 8, pstride = 25, off = 200*d0, dims = [[25, 1]]>, %o_t <p = 0, n = 8, off = 0, dims = [[25, 1]]> : !inf.dram<2x8x5x5xf32>, !inf.sbuf<8x25xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
