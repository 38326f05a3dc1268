// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// ceil_mode becomes extra end padding so the floor rule gives the ceil size.
// CHECK-LABEL: func.func @ceil_max
// CHECK-NEXT:    %p = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
func.func @ceil_max(%x: tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32> {
  %p = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  func.return %p : tensor<1x2x4x4xf32>
}

// An average that excludes pads divides the overhang windows by their in-bounds count.
// CHECK-LABEL: func.func @ceil_avg
// CHECK-NEXT:    %p = ktensor.pool2d "avg" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, count_include_pad = 0 : i64}
func.func @ceil_avg(%x: tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32> {
  %p = fw.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  func.return %p : tensor<1x2x4x4xf32>
}

// count_include_pad=1 counts the explicit pads but not the ceil overhang: the
// explicit pads become zeros of a ktensor.pad, the overhang is excluded.
// CHECK-LABEL: func.func @ceil_avg_include_pad
// CHECK-NEXT:    %{{.*}} = ktensor.pad "constant" %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 0.000000e+00 : f32} : (tensor<1x2x6x6xf32>) -> tensor<1x2x8x8xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.pool2d "avg" %{{.*}} {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, count_include_pad = 0 : i64} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
func.func @ceil_avg_include_pad(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x4x4xf32> {
  %p = fw.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = true, count_include_pad = true} : (tensor<1x2x6x6xf32>) -> tensor<1x2x4x4xf32>
  func.return %p : tensor<1x2x4x4xf32>
}

// Dilations carry over; the ceil overhang is measured over the dilated window (span 3).
// CHECK-LABEL: func.func @dilated_ceil_max
// CHECK-NEXT:    %p = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
func.func @dilated_ceil_max(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %p = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true, dilations = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  func.return %p : tensor<1x2x3x3xf32>
}
