// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A global average pool over a resident input (320 channels: two full channel tiles of 128 and one
// of 64) whose result goes to DRAM: every tile's reduction lands in one result tile, which goes out
// in one DMA for the full tiles (channel 128 * ct + p at DRAM offset 128 * ct + p) and one for the
// partial tile, instead of one DMA per channel tile.

func.func @main(%x: tensor<1x16x7x7xbf16> {kaena.name = "x"}) -> (tensor<1x320x1x1xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<320x16x1x1xbf16>
  %c = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x16x7x7xbf16>, tensor<320x16x1x1xbf16>) -> tensor<1x320x7x7xf32>
  %y = ktensor.pool2d "avg" %c {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x320x7x7xf32>) -> tensor<1x320x1x1xf32>
  func.return %y : tensor<1x320x1x1xf32>
}

// CHECK:      %o_t = inf.alloc : !inf.sbuf<128x3xf32>
// CHECK:      inf.loop 2 {
// CHECK-NEXT: inf.reduce "add" %o_t <p = 0, n = 128, off = 1*d0, dims = {{\[\[}}1, 1]]>, %c_sb <p = 0, n = 128, off = 49*d0, dims = {{\[\[}}1, 7], [1, 1], [7, 7], [7, 1]]> {axes = 2 : i64, scale = 0.0204081628 : f32}
// CHECK-NEXT: }
// CHECK-NEXT: inf.reduce "add" %o_t <p = 0, n = 64, off = 2, dims = {{\[\[}}1, 1]]>, %c_sb <p = 0, n = 64, off = 98,
// CHECK-NEXT: inf.dma %y <p = 0, n = 128, pstride = 1, off = 0, dims = {{\[\[}}2, 128]]>, %o_t <p = 0, n = 128, off = 0, dims = {{\[\[}}2, 1]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 64, pstride = 1, off = 256, dims = {{\[\[}}1, 1]]>, %o_t <p = 0, n = 64, off = 2, dims = {{\[\[}}1, 1]]>
// CHECK-NOT:  inf.dma %y
