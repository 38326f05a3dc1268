// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=12}' | filecheck %s
// Narrowing two weight blocks at once. With a limit of 1/12 of a partition less headroom
// (7,168 bytes), conv a's 4 KB of activations per sample run one sample at a time and the
// pair joins before b. At c, the whole batch's values, c's 2,048-byte weight tile and d's
// 4,096-byte one (loading ahead) are over the limit by 1,537 bytes. The bytes come off the
// two in proportion to their room above the least block (one 128-channel output tile over
// all input channels: 512 and 2,048 bytes): c to 1,389 and d to 3,218, 43% of the room of
// each. Both then stream through two buffers of half (tiling.weight_blocks); taking it all
// off c would leave c one 512-byte buffer, its four blocks each loaded and then computed.

builtin.module {
  func.func @main(%x: tensor<2x8x32x32xf32>) -> tensor<2x256x8x8xf32> {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %w2 = ktensor.weight "w2" : tensor<128x16x1x1xf32>
    %w3 = ktensor.weight "w3" : tensor<512x128x1x1xf32>
    %w4 = ktensor.weight "w4" : tensor<256x512x1x1xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<2x16x32x32xf32>
    %p = ktensor.pool2d "max" %a {kernel = array<i64: 4, 4>, strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x16x32x32xf32>) -> tensor<2x16x8x8xf32>
    %b = ktensor.conv2d %p, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x16x8x8xf32>, tensor<128x16x1x1xf32>) -> tensor<2x128x8x8xf32>
    %c = ktensor.conv2d %b, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x128x8x8xf32>, tensor<512x128x1x1xf32>) -> tensor<2x512x8x8xf32>
    %d = ktensor.conv2d %c, %w4 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x512x8x8xf32>, tensor<256x512x1x1xf32>) -> tensor<2x256x8x8xf32>
    func.return %d : tensor<2x256x8x8xf32>
  }
}

// CHECK:      attributes {kaena.plan.batch_groups = array<i64: 1, 2>}
// CHECK:      %b = ktensor.conv2d
// CHECK-NOT:  kaena.plan.weight_block
// CHECK-SAME: -> tensor<2x128x8x8xf32>
// CHECK-NEXT: %c = ktensor.conv2d %b, %w3 {kaena.plan.weight_block = 1389 : i64,
// CHECK-NEXT: %d = ktensor.conv2d %c, %w4 {kaena.plan.weight_block = 3218 : i64,
