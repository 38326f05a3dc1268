// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=37}' | filecheck %s
// RUN: kaena-opt %s -p 'ktensor-split-batch{sbuf-share=37 chunk=1}' | filecheck %s --check-prefix=CHUNK1
// Nested groups at batch 4 (a limit of 1/37 of a partition less headroom, 2,324 bytes):
// conv1 and pool1 (8 KB of live activations per sample) run one sample at a time, conv2
// (512 bytes per sample beside its 576-byte weight tile and conv3's loading ahead) fits
// two samples but not three, and from conv3 on the whole batch fits. Of the plans that
// fit, the one adding the fewest DMA cycles per sample (each stretch's weight loads once
// per group, the values crossing a join written and read back) joins the pairs before
// conv3, whose 256 KB of weights then stream once, not once per pair: the plan is
// recorded as kaena.plan.batch_groups = [1, 2, 4]. conv3's 2 KB weight tile does not fit
// ahead beside the pairs, so its weight blocks narrow to what does (kaena.plan.weight_block
// = 724 bytes per partition: one 512-byte block of 128 output channels at a time; a
// block of one output channel tile over all 128 input channels is the least). Depth
// first: samples 0 and 1 go through the front and conv2 before sample 2 starts. With
// chunk=1 (no group between one sample and the batch) conv2 runs per sample, beside
// conv3's blocks narrowed less (1,236 bytes).

builtin.module {
  func.func @main(%x: tensor<4x8x32x32xf32>) -> tensor<4x10xf32> {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %w2 = ktensor.weight "w2" : tensor<128x16x3x3xf32>
    %w3 = ktensor.weight "w3" : tensor<512x128x1x1xf32>
    %w4 = ktensor.weight "w4" : tensor<512x10xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<4x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<4x16x32x32xf32>
    %p = ktensor.pool2d "max" %a {kernel = array<i64: 4, 4>, strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x16x32x32xf32>) -> tensor<4x16x8x8xf32>
    %y = ktensor.conv2d %p, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<4x16x8x8xf32>, tensor<128x16x3x3xf32>) -> tensor<4x128x8x8xf32>
    %q = ktensor.pool2d "max" %y {kernel = array<i64: 8, 8>, strides = array<i64: 8, 8>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x128x8x8xf32>) -> tensor<4x128x1x1xf32>
    %z = ktensor.conv2d %q, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<4x128x1x1xf32>, tensor<512x128x1x1xf32>) -> tensor<4x512x1x1xf32>
    %f = ktensor.reshape %z : (tensor<4x512x1x1xf32>) -> tensor<4x512xf32>
    %o = ktensor.matmul %f, %w4 {activation = "none"} : (tensor<4x512xf32>, tensor<512x10xf32>) -> tensor<4x10xf32>
    func.return %o : tensor<4x10xf32>
  }
}

// CHECK:      func.func @main(%x: tensor<4x8x32x32xf32>) -> tensor<4x10xf32> attributes {kaena.plan.batch_groups = array<i64: 1, 2, 4>}
// CHECK:      %[[X0:.*]] = ktensor.slice %x {offsets = array<i64: 0, 0, 0, 0>, {{.*}} -> tensor<1x8x32x32xf32>
// CHECK-NEXT: %a.s0 = ktensor.conv2d %[[X0]], %w1 {{.*}} -> tensor<1x16x32x32xf32>
// CHECK-NEXT: %p.s0 = ktensor.pool2d "max" %a.s0
// CHECK-NEXT: %[[X1:.*]] = ktensor.slice %x {offsets = array<i64: 1, 0, 0, 0>
// CHECK-NEXT: %a.s1 = ktensor.conv2d %[[X1]], %w1
// CHECK-NEXT: %p.s1 = ktensor.pool2d "max" %a.s1
// CHECK-NEXT: %[[P01:.*]] = ktensor.concat %p.s0, %p.s1 {axis = 0 : i64} {{.*}} -> tensor<2x16x8x8xf32>
// CHECK-NEXT: %y.s0-1 = ktensor.conv2d %[[P01]], %w2 {{.*}} -> tensor<2x128x8x8xf32>
// CHECK-NEXT: %q.s0-1 = ktensor.pool2d "max" %y.s0-1 {{.*}} -> tensor<2x128x1x1xf32>
// CHECK-NEXT: %[[X2:.*]] = ktensor.slice %x {offsets = array<i64: 2, 0, 0, 0>
// CHECK-NEXT: %a.s2 = ktensor.conv2d %[[X2]], %w1
// CHECK-NEXT: %p.s2 = ktensor.pool2d "max" %a.s2
// CHECK-NEXT: %[[X3:.*]] = ktensor.slice %x {offsets = array<i64: 3, 0, 0, 0>
// CHECK-NEXT: %a.s3 = ktensor.conv2d %[[X3]], %w1
// CHECK-NEXT: %p.s3 = ktensor.pool2d "max" %a.s3
// CHECK-NEXT: %[[P23:.*]] = ktensor.concat %p.s2, %p.s3 {axis = 0 : i64}
// CHECK-NEXT: %y.s2-3 = ktensor.conv2d %[[P23]], %w2 {{.*}} -> tensor<2x128x8x8xf32>
// CHECK-NEXT: %q.s2-3 = ktensor.pool2d "max" %y.s2-3
// CHECK-NEXT: %[[Q:.*]] = ktensor.concat %q.s0-1, %q.s2-3 {axis = 0 : i64} : (tensor<2x128x1x1xf32>, tensor<2x128x1x1xf32>) -> tensor<4x128x1x1xf32>
// CHECK-NEXT: %z = ktensor.conv2d %[[Q]], %w3 {kaena.plan.weight_block = 724 : i64, {{.*}} -> tensor<4x512x1x1xf32>
// CHECK-NEXT: %f = ktensor.reshape %z
// CHECK-NEXT: %o = ktensor.matmul %f, %w4

// CHUNK1:     attributes {kaena.plan.batch_groups = array<i64: 1, 4>}
// CHUNK1-NOT: tensor<2x
// CHUNK1:     %y.s3 = ktensor.conv2d %p.s3, %w2 {{.*}} -> tensor<1x128x8x8xf32>
// CHUNK1-NOT: tensor<2x
// CHUNK1:     %z = ktensor.conv2d {{.*}}kaena.plan.weight_block = 1236 : i64{{.*}} -> tensor<4x512x1x1xf32>
