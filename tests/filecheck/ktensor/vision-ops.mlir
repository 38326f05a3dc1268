// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// The vision-network ops round-trip in pretty and generic form.

// CHECK-LABEL: func.func @vision
// CHECK-NEXT: %a = ktensor.activation "clip" %x {alpha = 0.000000e+00 : f32, beta = 6.000000e+00 : f32} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
// CHECK-NEXT: %l = ktensor.activation "leaky_relu" %a {alpha = 1.000000e-01 : f32} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
// CHECK-NEXT: %c = ktensor.concat %x, %l {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x6x8x8xf32>
// CHECK-NEXT: %p = ktensor.pad "reflect" %c {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 0.000000e+00 : f32} : (tensor<1x6x8x8xf32>) -> tensor<1x6x10x10xf32>
// CHECK-NEXT: %q = ktensor.pool2d "avg" %p {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = 0 : i64} : (tensor<1x6x10x10xf32>) -> tensor<1x6x8x8xf32>
// CHECK-NEXT: %r = ktensor.resize_nearest %q {scales = array<i64: 2, 2>} : (tensor<1x6x8x8xf32>) -> tensor<1x6x16x16xf32>
// CHECK-NEXT: %d = ktensor.pool2d "max" %r {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 3>} : (tensor<1x6x16x16xf32>) -> tensor<1x6x14x13xf32>
func.func @vision(%x: tensor<1x3x8x8xf32>) -> tensor<1x6x16x16xf32> {
  %a = ktensor.activation "clip" %x {alpha = 0.0 : f32, beta = 6.0 : f32} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  %l = ktensor.activation "leaky_relu" %a {alpha = 0.1 : f32} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  %c = ktensor.concat %x, %l {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x6x8x8xf32>
  %p = ktensor.pad "reflect" %c {pads = array<i64: 0,0,1,1,0,0,1,1>, value = 0.0 : f32} : (tensor<1x6x8x8xf32>) -> tensor<1x6x10x10xf32>
  %q = ktensor.pool2d "avg" %p {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0,0,0,0>, count_include_pad = 0 : i64} : (tensor<1x6x10x10xf32>) -> tensor<1x6x8x8xf32>
  %r = ktensor.resize_nearest %q {scales = array<i64: 2, 2>} : (tensor<1x6x8x8xf32>) -> tensor<1x6x16x16xf32>
  %d = ktensor.pool2d "max" %r {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0,0,0,0>, dilations = array<i64: 2, 3>} : (tensor<1x6x16x16xf32>) -> tensor<1x6x14x13xf32>
  func.return %r : tensor<1x6x16x16xf32>
}
