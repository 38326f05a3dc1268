// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// One case per check of the transformer fw verifiers; each must be rejected with its message.

// CHECK: 'fw.gelu' approximate must be one of none, tanh, got 'fast'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.gelu %a {approximate = #fw<gelu_approximation "fast">} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.log_softmax' axis 2 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.log_softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.layer_norm' axis -3 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>, %s: tensor<3xf32>) {
  %0 = fw.layer_norm %a, %s {axis = -3 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.layer_norm' scale and bias must broadcast to (3,), got (2, 3)
func.func @f(%a: tensor<2x3xf32>, %s: tensor<2x3xf32>) {
  %0 = fw.layer_norm %a, %s {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: 'fw.reduce' kind must be one of sum, mean, max, min, got 'prod'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.reduce "prod" %a {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.reduce' axes [1, 0] must be sorted, unique and in [0, 2)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.reduce "sum" %a {axes = array<i64: 1, 0>, keepdims = true} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.reduce' result shape must be (2,), got (2, 1)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.reduce "sum" %a {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.cast' must change the element type
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.cast %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.cast' result shape must be (2, 3), got (3, 2)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.cast %a : (tensor<2x3xf32>) -> tensor<3x2xi32>
  func.return
}

// -----

// CHECK: 'fw.compare' kind must be one of equal, less, greater, less_equal, greater_equal, got 'ne'
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.compare "ne" %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.compare' operands must share one element type
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) {
  %0 = fw.compare "equal" %a, %b : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.compare' result must be i1
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.compare "less" %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.not' takes an i1 tensor
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.not %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.where' condition must be i1
func.func @f(%c: tensor<2x3xf32>, %a: tensor<2x3xf32>) {
  %0 = fw.where %c, %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.where' values and result must share one element type
func.func @f(%c: tensor<2x3xi1>, %a: tensor<2x3xf32>, %b: tensor<2x3xi32>) {
  %0 = fw.where %c, %a, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.where' operands do not broadcast
func.func @f(%c: tensor<2x3xi1>, %a: tensor<4xf32>) {
  %0 = fw.where %c, %a, %a : (tensor<2x3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.expand' (2, 3) does not broadcast to (4,)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.expand %a {shape = array<i64: 4>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.slice' needs one start, size and step per dim of (2, 3)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.slice %a {starts = array<i64: 0>, sizes = array<i64: 1>, steps = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.slice' slice (start 1, size 2, step 2) is out of a dim of 3
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.slice %a {starts = array<i64: 0, 1>, sizes = array<i64: 2, 2>, steps = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gather' indices must be integers, got f32
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xf32>) {
  %0 = fw.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gather' table and result must share one element type
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %0 = fw.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x4xbf16>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gather' axis 2 out of range for rank 2
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %0 = fw.gather %t, %i {axis = 2 : i64} : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gather' result shape must be (3, 4), got (4, 3)
func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %0 = fw.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<4x3xf32>
  func.return
}
