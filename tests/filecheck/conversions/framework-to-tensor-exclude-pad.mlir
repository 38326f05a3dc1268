// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// count_include_pad=0 maps onto the pool's own property; =1 is ktensor's default.
// CHECK-LABEL: func.func @exclude_pad
// CHECK-NEXT:    %p = ktensor.pool2d "avg" %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
// CHECK-NEXT:    %q = ktensor.pool2d "avg" %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
func.func @exclude_pad(%x: tensor<1x2x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>) {
  %p = fw.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = false} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  %q = fw.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = true} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  func.return %p, %q : tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>
}
