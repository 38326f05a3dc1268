// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=48 chunk=2}' | filecheck %s
// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=48}' | filecheck %s --check-prefix=AUTO
// ktensor-split-batch at batch 4 in chunks of 2: the front (conv1, pool: over 1/48 of a
// partition) runs one sample at a time, conv2 on pairs, the reshape and the matmul (which
// mix samples) on the whole batch. Depth first: samples 0 and 1 go through the front
// and conv2 before sample 2 starts. Chosen automatically, the plan is the one adding the
// fewest DMA cycles per sample: conv2 (over 1/48 of a partition at four samples) per
// sample, so that only one join (before the reshape) writes its values to DRAM and reads
// them back; conv2's 1 KB of weights streaming four times cost less than a second join.

builtin.module {
  func.func @main(%x: tensor<4x8x32x32xf32>) -> tensor<4x10xf32> {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %w2 = ktensor.weight "w2" : tensor<16x16x1x1xf32>
    %w3 = ktensor.weight "w3" : tensor<1024x10xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<4x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<4x16x32x32xf32>
    %p = ktensor.pool2d "max" %a {kernel = array<i64: 4, 4>, strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x16x32x32xf32>) -> tensor<4x16x8x8xf32>
    %y = ktensor.conv2d %p, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<4x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<4x16x8x8xf32>
    %f = ktensor.reshape %y : (tensor<4x16x8x8xf32>) -> tensor<4x1024xf32>
    %z = ktensor.matmul %f, %w3 {activation = "none"} : (tensor<4x1024xf32>, tensor<1024x10xf32>) -> tensor<4x10xf32>
    func.return %z : tensor<4x10xf32>
  }
}

// CHECK:      attributes {kaena.plan.batch_groups = array<i64: 1, 2, 4>}
// CHECK:      %[[X0:.*]] = ktensor.slice %x {offsets = array<i64: 0, 0, 0, 0>, {{.*}} -> tensor<1x8x32x32xf32>
// CHECK-NEXT: %[[A0:.*]] = ktensor.conv2d %[[X0]], %w1 {{.*}} -> tensor<1x16x32x32xf32>
// CHECK-NEXT: %[[P0:.*]] = ktensor.pool2d "max" %[[A0]]
// CHECK-NEXT: %[[X1:.*]] = ktensor.slice %x {offsets = array<i64: 1, 0, 0, 0>
// CHECK-NEXT: %[[A1:.*]] = ktensor.conv2d %[[X1]], %w1
// CHECK-NEXT: %[[P1:.*]] = ktensor.pool2d "max" %[[A1]]
// CHECK-NEXT: %[[P01:.*]] = ktensor.concat %[[P0]], %[[P1]] {axis = 0 : i64} {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %[[Y01:.*]] = ktensor.conv2d %[[P01]], %w2 {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %[[X2:.*]] = ktensor.slice %x {offsets = array<i64: 2, 0, 0, 0>
// CHECK-NEXT: %[[A2:.*]] = ktensor.conv2d %[[X2]], %w1
// CHECK-NEXT: %[[P2:.*]] = ktensor.pool2d "max" %[[A2]]
// CHECK-NEXT: %[[X3:.*]] = ktensor.slice %x {offsets = array<i64: 3, 0, 0, 0>
// CHECK-NEXT: %[[A3:.*]] = ktensor.conv2d %[[X3]], %w1
// CHECK-NEXT: %[[P3:.*]] = ktensor.pool2d "max" %[[A3]]
// CHECK-NEXT: %[[P23:.*]] = ktensor.concat %[[P2]], %[[P3]] {axis = 0 : i64}
// CHECK-NEXT: %[[Y23:.*]] = ktensor.conv2d %[[P23]], %w2 {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %[[Y:.*]] = ktensor.concat %[[Y01]], %[[Y23]] {axis = 0 : i64} : (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<4x16x8x8xf32>
// CHECK-NEXT: %f = ktensor.reshape %[[Y]] : (tensor<4x16x8x8xf32>) -> tensor<4x1024xf32>
// CHECK-NEXT: %z = ktensor.matmul %f, %w3

// AUTO:       attributes {kaena.plan.batch_groups = array<i64: 1, 4>}
// AUTO-NOT:   tensor<2x
// AUTO:       %y.s3 = ktensor.conv2d %p.s3, %w2 {{.*}} -> tensor<1x16x8x8xf32>
// AUTO-NEXT:  %[[Y:.*]] = ktensor.concat %y.s0, %y.s1, %y.s2, %y.s3 {axis = 0 : i64} {{.*}} -> tensor<4x16x8x8xf32>
// AUTO-NEXT:  %f = ktensor.reshape %[[Y]]
// AUTO-NOT:   tensor<2x
