// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=48}' | filecheck %s
// RUN: kaena-opt %s -p ktensor-split-batch | filecheck %s --check-prefix=FITS
// ktensor-split-batch at batch 2: the conv's and the pool's 8 KB per partition of live
// activations are over 1/48 of a partition less headroom (1,792 bytes), so they run one
// sample at a time on slices of the input (weights shared); the pool's small result (512
// bytes) is where the samples join, and the last conv runs on the whole batch. With the
// default share (the whole partition less the residency planner's headroom) the whole
// batch fits and nothing changes.

builtin.module {
  func.func @main(%x: tensor<2x8x32x32xf32>) -> tensor<2x16x8x8xf32> {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %w2 = ktensor.weight "w2" : tensor<16x16x1x1xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<2x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<2x16x32x32xf32>
    %p = ktensor.pool2d "max" %a {kernel = array<i64: 4, 4>, strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x16x32x32xf32>) -> tensor<2x16x8x8xf32>
    %y = ktensor.conv2d %p, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<2x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<2x16x8x8xf32>
    func.return %y : tensor<2x16x8x8xf32>
  }
}

// CHECK:      attributes {kaena.plan.batch_groups = array<i64: 1, 2>}
// CHECK:      %w1 = ktensor.weight "w1"
// CHECK-NEXT: %w2 = ktensor.weight "w2"
// CHECK-NEXT: %[[X0:.*]] = ktensor.slice %x {offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<2x8x32x32xf32>) -> tensor<1x8x32x32xf32>
// CHECK-NEXT: %[[A0:.*]] = ktensor.conv2d %[[X0]], %w1 {{.*}} -> tensor<1x16x32x32xf32>
// CHECK-NEXT: %[[P0:.*]] = ktensor.pool2d "max" %[[A0]] {{.*}} -> tensor<1x16x8x8xf32>
// CHECK-NEXT: %[[X1:.*]] = ktensor.slice %x {offsets = array<i64: 1, 0, 0, 0>, {{.*}} -> tensor<1x8x32x32xf32>
// CHECK-NEXT: %[[A1:.*]] = ktensor.conv2d %[[X1]], %w1 {{.*}} -> tensor<1x16x32x32xf32>
// CHECK-NEXT: %[[P1:.*]] = ktensor.pool2d "max" %[[A1]] {{.*}} -> tensor<1x16x8x8xf32>
// CHECK-NEXT: %[[P:.*]] = ktensor.concat %[[P0]], %[[P1]] {axis = 0 : i64} : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %y = ktensor.conv2d %[[P]], %w2 {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: func.return %y

// FITS-NOT: kaena.plan.batch_groups
// FITS:     %a = ktensor.conv2d %x, %w1 {{.*}} -> tensor<2x16x32x32xf32>
// FITS-NOT: ktensor.slice
