// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// One case per check of the transformer ktensor verifiers; each must be rejected with its message.

// CHECK: Operation does not verify: 'ktensor.batch_matmul' expects operands of one rank >= 3 with equal batch dims, got (2, 3, 4) x (3, 4, 5)
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  %0 = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.batch_matmul' expects [..,M,K] x [..,K,N] -> [..,M,N], got (2, 3, 4) x (2, 4, 5) -> (2, 5, 3)
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) {
  %0 = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x5x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.batch_matmul' expects [..,M,K] x [..,K,N] -> [..,M,N], got (2, 3, 4) x (2, 4, 5) -> (2, 3, 4)
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) {
  %0 = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = true} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.batch_matmul' operands must share one element type
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xbf16>) {
  %0 = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : (tensor<2x3x4xf32>, tensor<2x4x5xbf16>) -> tensor<2x3x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.gather' indices must be i32, got i64
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi64>) {
  %0 = ktensor.gather %t, %i : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.gather' result must be (3, 4), got (4, 3)
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %0 = ktensor.gather %t, %i : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.gather' table and result must share one element type
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %0 = ktensor.gather %t, %i : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x4xbf16>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.layer_norm' keeps the (non-scalar) shape
func.func @f(%a: tensor<2x3xf32>, %s: tensor<3xf32>) {
  %0 = ktensor.layer_norm %a, %s {epsilon = 1.0e-05 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.layer_norm' scale and bias must be [3], got (2, 3)
func.func @f(%a: tensor<2x3xf32>, %s: tensor<2x3xf32>) {
  %0 = ktensor.layer_norm %a, %s {epsilon = 1.0e-05 : f32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.layer_norm' epsilon must be >= 0
func.func @f(%a: tensor<2x3xf32>, %s: tensor<3xf32>) {
  %0 = ktensor.layer_norm %a, %s {epsilon = -1.0e-05 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: 'ktensor.reduce' kind must be one of sum, mean, max, min, got 'prod'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.reduce "prod" %a {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.reduce' axes [] must be sorted, unique and in [0, 2)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.reduce "sum" %a {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.reduce' result must be (2, 1), got (2,)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.reduce "sum" %a {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.log_softmax' axis -1 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.log_softmax %a {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.log_softmax' keeps the shape
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.log_softmax %a {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

// CHECK: 'ktensor.compare' kind must be one of equal, less, greater, less_equal, greater_equal, got 'ne'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.compare "ne" %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.compare' operands must share one element type
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) {
  %0 = ktensor.compare "equal" %a, %b : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.compare' result must be i1
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.compare "less" %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.compare' operands do not broadcast: (2, 3), (4,)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  %0 = ktensor.compare "less" %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.compare' result must be (2, 3), got (3, 2)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.compare "less" %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x2xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.logical_not' maps an i1 tensor to one of the same type
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.logical_not %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.select' condition must be i1
func.func @f(%c: tensor<2x3xf32>, %a: tensor<2x3xf32>) {
  %0 = ktensor.select %c, %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.select' values and result must share one element type
func.func @f(%c: tensor<2x3xi1>, %a: tensor<2x3xf32>, %b: tensor<2x3xbf16>) {
  %0 = ktensor.select %c, %a, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xbf16>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.select' result must be (2, 3), got (2, 1)
func.func @f(%c: tensor<2x3xi1>, %a: tensor<2x3xf32>) {
  %0 = ktensor.select %c, %a, %a : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.slice' needs one offset and stride per dim of (2, 3) (and the same rank)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.slice %a {offsets = array<i64: 0>, strides = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.slice' (offset 2, size 2, stride 1) is out of a dim of 3
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.slice %a {offsets = array<i64: 0, 2>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.slice' keeps the element type
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.slice %a {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xbf16>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.broadcast' cannot broadcast (2, 3) to (2, 6)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.broadcast %a : (tensor<2x3xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.broadcast' keeps the element type
func.func @f(%a: tensor<1x3xf32>) {
  %0 = ktensor.broadcast %a : (tensor<1x3xf32>) -> tensor<2x3xbf16>
  func.return
}

// -----

// CHECK: 'ktensor.activation' func must be one of relu, relu6, sigmoid, tanh, gelu, exp, gelu_tanh, erf, log, sqrt, rsqrt, reciprocal, square, neg, leaky_relu, clip, hard_sigmoid, hard_swish, got 'cube'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = ktensor.activation "cube" %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
