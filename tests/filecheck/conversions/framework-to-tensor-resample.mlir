// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// fw.resample: one 2-D matmul by the transposed interpolation matrix per axis. W (last)
// needs no transpose; H is moved last and back. Upsampling: H first (on the smaller tensor),
// so the transposes move 2*3*4 + 2*6*4 elements instead of 2*3*8 + 2*6*8.
builtin.module attributes {kaena.weights = "../Inputs/resample-weights.npz"} {
  // CHECK-LABEL: func.func @bilinear
  // CHECK:      %[[MH:.*]] = ktensor.weight "up.h.t{{.*}}" : tensor<3x6xf32>
  // CHECK:      %[[XT:.*]] = ktensor.transpose %x {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  // CHECK-NEXT: %[[XR:.*]] = ktensor.reshape %[[XT]] : (tensor<1x2x4x3xf32>) -> tensor<8x3xf32>
  // CHECK-NEXT: %[[YH:.*]] = ktensor.matmul %[[XR]], %[[MH]] {kaena.keep_fp32, activation = "none"} : (tensor<8x3xf32>, tensor<3x6xf32>) -> tensor<8x6xf32>
  // CHECK-NEXT: %[[YR:.*]] = ktensor.reshape %[[YH]] : (tensor<8x6xf32>) -> tensor<1x2x4x6xf32>
  // CHECK-NEXT: %[[YT:.*]] = ktensor.transpose %[[YR]] {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x2x6x4xf32>
  // CHECK-NEXT: %[[MW:.*]] = ktensor.weight "up.w.t{{.*}}" : tensor<4x8xf32>
  // CHECK-NEXT: %[[ZR:.*]] = ktensor.reshape %[[YT]] : (tensor<1x2x6x4xf32>) -> tensor<12x4xf32>
  // CHECK-NEXT: %[[Z:.*]] = ktensor.matmul %[[ZR]], %[[MW]] {kaena.keep_fp32, activation = "none"} : (tensor<12x4xf32>, tensor<4x8xf32>) -> tensor<12x8xf32>
  // CHECK-NEXT: %{{.*}} = ktensor.reshape %[[Z]] : (tensor<12x8xf32>) -> tensor<1x2x6x8xf32>
  // CHECK-NOT:  fw.
  func.func @bilinear(%x: tensor<1x2x3x4xf32>) -> tensor<1x2x6x8xf32> {
    %h = fw.weight "up.h" : tensor<6x3xf32>
    %w = fw.weight "up.w" : tensor<8x4xf32>
    %y = fw.resample %x, %h, %w {axes = array<i64: 2, 3>} : (tensor<1x2x3x4xf32>, tensor<6x3xf32>, tensor<8x4xf32>) -> tensor<1x2x6x8xf32>
    func.return %y : tensor<1x2x6x8xf32>
  }

  // Only W resampled: one matmul, no transpose.
  // CHECK-LABEL: func.func @width_only
  // CHECK-NOT:  ktensor.transpose
  // CHECK:      ktensor.matmul %{{.*}}, %{{.*}} {kaena.keep_fp32, activation = "none"} : (tensor<6x4xf32>, tensor<4x8xf32>) -> tensor<6x8xf32>
  // CHECK-NOT:  ktensor.transpose
  // CHECK:      func.return
  func.func @width_only(%x: tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32> {
    %w = fw.weight "up.w" : tensor<8x4xf32>
    %y = fw.resample %x, %w {axes = array<i64: 3>} : (tensor<1x2x3x4xf32>, tensor<8x4xf32>) -> tensor<1x2x3x8xf32>
    func.return %y : tensor<1x2x3x8xf32>
  }
}
