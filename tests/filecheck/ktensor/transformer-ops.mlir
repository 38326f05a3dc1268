// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// Every transformer ktensor op prints and parses back, in pretty and generic
// form: token ids i32, masks i1, the new activation functions.

// CHECK-LABEL: func.func @transformer_ops
// CHECK:      %table = ktensor.weight "emb" : tensor<100x16xf32>
// CHECK-NEXT: %emb = ktensor.gather %table, %ids : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %g = ktensor.weight "ln.weight" : tensor<16xf32>
// CHECK-NEXT: %b = ktensor.weight "ln.bias" : tensor<16xf32>
// CHECK-NEXT: %ln = ktensor.layer_norm %emb, %g, %b {epsilon = 1.000000e-12 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %ln2 = ktensor.layer_norm %x, %g {epsilon = 1.000000e-05 : f32} : (tensor<16x16xf32>, tensor<16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: %red = ktensor.reduce "max" %ln {axes = array<i64: 0, 2>} : (tensor<2x8x16xf32>) -> tensor<1x8x1xf32>
// CHECK-NEXT: %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<2x2x8x4xbf16>, tensor<2x2x4x8xbf16>) -> tensor<2x2x8x8xf32>
// CHECK-NEXT: %st = ktensor.batch_matmul %q, %kt {transpose_lhs = false, transpose_rhs = true} : (tensor<2x2x8x4xbf16>, tensor<2x2x8x4xbf16>) -> tensor<2x2x8x8xf32>
// CHECK-NEXT: %lsm = ktensor.log_softmax %s {axis = 3 : i64} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK-NEXT: %eq = ktensor.compare "equal" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
// CHECK-NEXT: %not = ktensor.logical_not %eq : (tensor<2x8xi1>) -> tensor<2x8xi1>
// CHECK-NEXT: %mf = ktensor.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
// CHECK-NEXT: %zero = ktensor.weight "zero" : tensor<1xf32>
// CHECK-NEXT: %sel = ktensor.select %not, %mf, %zero : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<1xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: %sl = ktensor.slice %ln {offsets = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: %bc = ktensor.broadcast %red : (tensor<1x8x1xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %e = ktensor.activation "erf" %ln2 : (tensor<16x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: %r = ktensor.activation "rsqrt" %e : (tensor<16x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: %sq = ktensor.activation "square" %r : (tensor<16x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: %n = ktensor.activation "neg" %sq : (tensor<16x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: %w = ktensor.weight "w" : tensor<16x16xf32>
// CHECK-NEXT: %mm = ktensor.matmul %n, %w {activation = "gelu_tanh"} : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT: func.return %mm : tensor<16x16xf32>
func.func @transformer_ops(%x: tensor<16x16xf32>, %ids: tensor<2x8xi32>, %m: tensor<2x8xi32>, %q: tensor<2x2x8x4xbf16>, %k: tensor<2x2x4x8xbf16>, %kt: tensor<2x2x8x4xbf16>) -> tensor<16x16xf32> {
  %table = ktensor.weight "emb" : tensor<100x16xf32>
  %emb = ktensor.gather %table, %ids : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
  %g = ktensor.weight "ln.weight" : tensor<16xf32>
  %b = ktensor.weight "ln.bias" : tensor<16xf32>
  %ln = ktensor.layer_norm %emb, %g, %b {epsilon = 9.99999996e-13 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %ln2 = ktensor.layer_norm %x, %g {epsilon = 1.000000e-05 : f32} : (tensor<16x16xf32>, tensor<16xf32>) -> tensor<16x16xf32>
  %red = ktensor.reduce "max" %ln {axes = array<i64: 0, 2>} : (tensor<2x8x16xf32>) -> tensor<1x8x1xf32>
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<2x2x8x4xbf16>, tensor<2x2x4x8xbf16>) -> tensor<2x2x8x8xf32>
  %st = ktensor.batch_matmul %q, %kt {transpose_lhs = false, transpose_rhs = true} : (tensor<2x2x8x4xbf16>, tensor<2x2x8x4xbf16>) -> tensor<2x2x8x8xf32>
  %lsm = ktensor.log_softmax %s {axis = 3 : i64} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %eq = ktensor.compare "equal" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
  %not = ktensor.logical_not %eq : (tensor<2x8xi1>) -> tensor<2x8xi1>
  %mf = ktensor.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
  %zero = ktensor.weight "zero" : tensor<1xf32>
  %sel = ktensor.select %not, %mf, %zero : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<1xf32>) -> tensor<2x8xf32>
  %sl = ktensor.slice %ln {offsets = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %bc = ktensor.broadcast %red : (tensor<1x8x1xf32>) -> tensor<2x8x16xf32>
  %e = ktensor.activation "erf" %ln2 : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = ktensor.activation "rsqrt" %e : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %sq = ktensor.activation "square" %r : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %n = ktensor.activation "neg" %sq : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %w = ktensor.weight "w" : tensor<16x16xf32>
  %mm = ktensor.matmul %n, %w {activation = "gelu_tanh"} : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %mm : tensor<16x16xf32>
}
