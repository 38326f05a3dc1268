// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=48 chunk=2}' | filecheck %s
// A batch of 3 in chunks of 2: the last chunk holds the one sample left, whose conv2
// reads the front's result directly (no concat of one), and the chunks join before the
// reshape that mixes samples.

builtin.module {
  func.func @main(%x: tensor<3x8x32x32xf32>) -> tensor<3x10xf32> {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %w2 = ktensor.weight "w2" : tensor<16x16x1x1xf32>
    %w3 = ktensor.weight "w3" : tensor<1024x10xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<3x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<3x16x32x32xf32>
    %p = ktensor.pool2d "max" %a {kernel = array<i64: 4, 4>, strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>} : (tensor<3x16x32x32xf32>) -> tensor<3x16x8x8xf32>
    %y = ktensor.conv2d %p, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<3x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<3x16x8x8xf32>
    %f = ktensor.reshape %y : (tensor<3x16x8x8xf32>) -> tensor<3x1024xf32>
    %z = ktensor.matmul %f, %w3 {activation = "none"} : (tensor<3x1024xf32>, tensor<1024x10xf32>) -> tensor<3x10xf32>
    func.return %z : tensor<3x10xf32>
  }
}

// CHECK:      attributes {kaena.plan.batch_groups = array<i64: 1, 2, 3>}
// CHECK:      %[[P01:.*]] = ktensor.concat %p.s0, %p.s1 {axis = 0 : i64} {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %[[Y01:.*]] = ktensor.conv2d %[[P01]], %w2 {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %[[X2:.*]] = ktensor.slice %x {offsets = array<i64: 2, 0, 0, 0>, {{.*}} -> tensor<1x8x32x32xf32>
// CHECK-NEXT: %a.s2 = ktensor.conv2d %[[X2]], %w1
// CHECK-NEXT: %p.s2 = ktensor.pool2d "max" %a.s2
// CHECK-NEXT: %y.s2 = ktensor.conv2d %p.s2, %w2 {{.*}} -> tensor<1x16x8x8xf32>
// CHECK-NEXT: %[[Y:.*]] = ktensor.concat %[[Y01]], %y.s2 {axis = 0 : i64} : (tensor<2x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<3x16x8x8xf32>
// CHECK-NEXT: %f = ktensor.reshape %[[Y]]
