// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A dense conv whose weight blocks kaena.plan.weight_block narrows (ktensor-split-batch,
// so a group of samples fits beside them): 512 bytes per partition for the blocks, which
// stream through two buffers of 64 of the 256 output channels each (the next block loads
// while the PE array runs over this one). Weight stationary: each block loads once (the
// outer loop holds a pair of blocks) and both samples of the batch run over it (the inner
// loops), not each sample reloading every block.

func.func @main(%x: tensor<2x128x4x4xf32> {kaena.name = "x"}) -> (tensor<2x256x4x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<256x128x1x1xf32>
  %y = ktensor.conv2d %x, %w {kaena.plan.weight_block = 512 : i64, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<2x128x4x4xf32>, tensor<256x128x1x1xf32>) -> tensor<2x256x4x4xf32>
  func.return %y : tensor<2x256x4x4xf32>
}

// CHECK:      %w_t = inf.alloc : !inf.sbuf<128x64xf32>
// CHECK-NEXT: %w_t_1 = inf.alloc : !inf.sbuf<128x64xf32>
// CHECK:      inf.loop 2 {
// CHECK-NEXT:   inf.dma %w_t <p = 0, n = 128, off = 0, dims = {{\[\[}}64, 1]]>, %w <p = 0, n = 128, pstride = 1, off = 16384*d0, dims = {{\[\[}}64, 128]]>
// CHECK-NEXT:   inf.loop 2 {
// CHECK-NEXT:     inf.dma %x_t {{.*}}, %x <{{.*}} off = 2048*d1,
// CHECK-NEXT:     inf.load_stationary %w_t <
// CHECK:          inf.dma %y <{{.*}} off = 2048*d0 + 4096*d1,
// CHECK-NEXT:   }
// CHECK-NEXT:   inf.dma %w_t_1 <p = 0, n = 128, off = 0, dims = {{\[\[}}64, 1]]>, %w <p = 0, n = 128, pstride = 1, off = 8192 + 16384*d0, dims = {{\[\[}}64, 128]]>
// CHECK-NEXT:   inf.loop 2 {
// CHECK-NEXT:     inf.dma %x_t {{.*}}, %x <{{.*}} off = 2048*d1,
// CHECK-NEXT:     inf.load_stationary %w_t_1 <
// CHECK:          inf.dma %y <{{.*}} off = 1024 + 2048*d0 + 4096*d1,
// CHECK-NEXT:   }
// CHECK-NEXT: }
