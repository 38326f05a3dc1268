// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// Every ktensor op prints and parses back, in pretty and generic form.

func.func @ops(%x: tensor<1x3x8x8xf32>, %v: tensor<4x32xf32>) -> tensor<4x6xf32> {
  // CHECK:      %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xbf16>
  // CHECK-NEXT: %b = ktensor.weight "conv.bias" : tensor<8xf32>
  // CHECK-NEXT: %xb = ktensor.cast %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
  // CHECK-NEXT: %c = ktensor.conv2d %xb, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu", tile = array<i64: 8, 3, 4>} : (tensor<1x3x8x8xbf16>, tensor<8x3x3x3xbf16>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK-NEXT: %dw = ktensor.weight "dw.weight" : tensor<3x1x3x3xf32>
  // CHECK-NEXT: %d = ktensor.conv2d %x, %dw {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, groups = 3 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x4x4xf32>
  %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xbf16>
  %b = ktensor.weight "conv.bias" : tensor<8xf32>
  %xb = ktensor.cast %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
  %c = ktensor.conv2d %xb, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu", tile = array<i64: 8, 3, 4>} : (tensor<1x3x8x8xbf16>, tensor<8x3x3x3xbf16>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %dw = ktensor.weight "dw.weight" : tensor<3x1x3x3xf32>
  %d = ktensor.conv2d %x, %dw {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, groups = 3 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x4x4xf32>

  // CHECK-NEXT: %mp = ktensor.pool2d "max" %c {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  // CHECK-NEXT: %ap = ktensor.pool2d "avg" %mp {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  // CHECK-NEXT: %r = ktensor.reshape %mp : (tensor<1x8x4x4xf32>) -> tensor<4x32xf32>
  // CHECK-NEXT: %t = ktensor.transpose %mp {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x8xf32>
  %mp = ktensor.pool2d "max" %c {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %ap = ktensor.pool2d "avg" %mp {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %r = ktensor.reshape %mp : (tensor<1x8x4x4xf32>) -> tensor<4x32xf32>
  %t = ktensor.transpose %mp {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x8xf32>

  // CHECK-NEXT: %fw = ktensor.weight "fc.weight" : tensor<32x6xf32>
  // CHECK-NEXT: %fb = ktensor.weight "fc.bias" : tensor<6xf32>
  // CHECK-NEXT: %m = ktensor.matmul %r, %fw bias %fb {activation = "sigmoid"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %m2 = ktensor.matmul %v, %fw {activation = "none", tile = array<i64: 4, 32, 6>} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %fw = ktensor.weight "fc.weight" : tensor<32x6xf32>
  %fb = ktensor.weight "fc.bias" : tensor<6xf32>
  %m = ktensor.matmul %r, %fw bias %fb {activation = "sigmoid"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %m2 = ktensor.matmul %v, %fw {activation = "none", tile = array<i64: 4, 32, 6>} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>

  // CHECK-NEXT: %e = ktensor.elementwise "add" %m, %m2 {activation = "tanh"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %e2 = ktensor.elementwise "max" %e, %fb {activation = "none"} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %a = ktensor.activation "gelu" %e2 : (tensor<4x6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %s = ktensor.softmax %a {axis = 1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: func.return %s : tensor<4x6xf32>
  %e = ktensor.elementwise "add" %m, %m2 {activation = "tanh"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  %e2 = ktensor.elementwise "max" %e, %fb {activation = "none"} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %a = ktensor.activation "gelu" %e2 : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %s = ktensor.softmax %a {axis = 1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}
