// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// One case per ktensor verifier check; each must be rejected with its message.

// CHECK: Operation does not verify: 'ktensor.matmul' needs static shapes, got tensor<?x3xf32>
func.func @f(%a: tensor<?x3xf32>, %b: tensor<3x4xf32>) {
  %0 = ktensor.matmul %a, %b {activation = "none"} : (tensor<?x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.matmul' activation must be one of none, relu, relu6, sigmoid, tanh, gelu, exp, gelu_tanh, got 'softmax'
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  %0 = ktensor.matmul %a, %b {activation = "softmax"} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.matmul' expects {{[[]}}M,K] x {{[[]}}K,N] -> {{[[]}}M,N], got (2, 3) x (4, 4) -> (2, 4)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x4xf32>) {
  %0 = ktensor.matmul %a, %b {activation = "none"} : (tensor<2x3xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.matmul' bias must be {{[[]}}4], got (1, 4)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<1x4xf32>) {
  %0 = ktensor.matmul %a, %b bias %c {activation = "none"} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.matmul' tile must be {{[[]}}M, K, N]
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  %0 = ktensor.matmul %a, %b {activation = "none", tile = array<i64: 2, 3>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' activation must be one of none, relu, relu6, sigmoid, tanh, gelu, exp, gelu_tanh, got 'bogus'
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "bogus"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' expects 4-D input, weight and result
func.func @f(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' needs 2 strides, 2 dilations and 4 pads
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' strides, dilations, groups >= 1 and pads >= 0
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' channels do not match groups=3: input (1, 3, 8, 8), weight (4, 3, 3, 3)
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 3 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' bias must be {{[[]}}4]
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<1x4xf32>) {
  %0 = ktensor.conv2d %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<1x4xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' result must be (1, 4, 6, 6), got (1, 4, 8, 8)
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return
}

// -----

// CHECK: 'ktensor.elementwise' kind must be one of add, sub, mul, div, max, min, got 'pow'
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  %0 = ktensor.elementwise "pow" %a, %b {activation = "none"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.elementwise' activation must be one of none, relu, relu6, sigmoid, tanh, gelu, exp, gelu_tanh, got 'swish'
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  %0 = ktensor.elementwise "add" %a, %b {activation = "swish"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.elementwise' operands do not broadcast: (2, 3), (2,)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2xf32>) {
  %0 = ktensor.elementwise "add" %a, %b {activation = "none"} : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.elementwise' result must be (2, 3), got (3,)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  %0 = ktensor.elementwise "add" %a, %b {activation = "none"} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}

// -----

// CHECK: 'ktensor.activation' func must be one of relu, relu6, sigmoid, tanh, gelu, exp, gelu_tanh, erf, log, sqrt, rsqrt, reciprocal, square, neg, leaky_relu, clip, hard_sigmoid, hard_swish, got 'none'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.activation "none" %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.activation' keeps the shape
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.activation "relu" %a : (tensor<2x3xf32>) -> tensor<6xf32>
  func.return
}

// -----

// CHECK: 'ktensor.pool2d' kind must be one of max, avg, got 'min'
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = ktensor.pool2d "min" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pool2d' expects NCHW input, 2 kernel, 2 strides, 4 pads, 2 dilations
func.func @f(%x: tensor<3x8x8xf32>) {
  %0 = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<3x8x8xf32>) -> tensor<3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pool2d' kernel, strides and dilations >= 1, pads >= 0
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = ktensor.pool2d "max" %x {kernel = array<i64: 0, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pool2d' result must be (1, 3, 4, 4), got (1, 3, 3, 3)
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x3x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.softmax' axis 2 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.softmax' axis -1 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.softmax %a {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.softmax' keeps the shape
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.softmax %a {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.reshape' changes the element count: (2, 3) -> (7,)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.reshape %a : (tensor<2x3xf32>) -> tensor<7xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.transpose' perm (1, 2) is not a permutation of rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.transpose %a {perm = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.transpose' result shape does not match perm
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.cast' keeps the shape
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.cast %a : (tensor<2x3xf32>) -> tensor<3x2xbf16>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.cast' must change the element type
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.cast %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.activation' clip needs beta
func.func @f(%x: tensor<2x3xf32>) {
  %0 = ktensor.activation "clip" %x {alpha = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.activation' relu takes no alpha
func.func @f(%x: tensor<2x3xf32>) {
  %0 = ktensor.activation "relu" %x {alpha = 0.1 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.concat' operand (2, 4) does not match result (4, 3) off axis 0
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  %0 = ktensor.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.concat' operands do not add up to 5 along axis 1
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  %0 = ktensor.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.concat' axis 2 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: 'ktensor.pad' mode must be one of constant, edge, reflect, wrap, got 'circular'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.pad "circular" %a {pads = array<i64: 0, 0, 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pad' needs 4 non-negative pads
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.pad "constant" %a {pads = array<i64: 0, 0, -1, 0>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pad' result must be (4, 3), got (2, 3)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.pad "constant" %a {pads = array<i64: 1, 0, 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pad' reflect pads must be smaller than the dim
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.pad "reflect" %a {pads = array<i64: 2, 0, 0, 0>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.resize_nearest' takes NCHW and two integer scales >= 1
func.func @f(%a: tensor<1x2x3x3xf32>) {
  %0 = ktensor.resize_nearest %a {scales = array<i64: 0, 2>} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.resize_nearest' result must be (1, 2, 6, 6), got (1, 2, 6, 5)
func.func @f(%a: tensor<1x2x3x3xf32>) {
  %0 = ktensor.resize_nearest %a {scales = array<i64: 2, 2>} : (tensor<1x2x3x3xf32>) -> tensor<1x2x6x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pool2d' result must be (1, 3, 5, 5), got (1, 3, 7, 7)
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.pool2d' kernel, strides and dilations >= 1, pads >= 0
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.conv2d' computes in floating point: its tensors must be f32, bf16, f16, got tensor<1x4x8x8xi1>
func.func @f(%x: tensor<1x4x8x8xi1>, %w: tensor<4x1x3x3xf32>) {
  %0 = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64, activation = "relu6"} : (tensor<1x4x8x8xi1>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.elementwise' element types must be f32, bf16, f16, i32, i1, got tensor<2x3xf64>
func.func @f(%a: tensor<2x3xf64>) {
  %0 = ktensor.elementwise "add" %a, %a {activation = "none"} : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  func.return
}
