// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// Every transformer fw op prints and parses back, in pretty and generic form:
// integers are i32, masks i1.

// CHECK-LABEL: func.func @transformer_ops
// CHECK:      %table = fw.weight "emb" : tensor<100x16xf32>
// CHECK-NEXT: %emb = fw.gather %table, %ids {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %g = fw.weight "ln.weight" : tensor<16xf32>
// CHECK-NEXT: %bt = fw.weight "ln.bias" : tensor<16xf32>
// CHECK-NEXT: %ln = fw.layer_norm %emb, %g, %bt {axis = -1 : i64, epsilon = 1.000000e-12 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %ln2 = fw.layer_norm %ln, %g {axis = 2 : i64, epsilon = 1.000000e-05 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %mean = fw.reduce "mean" %ln2 {axes = array<i64: 2>, keepdims = true} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
// CHECK-NEXT: %sum = fw.reduce "sum" %ln2 {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x8x16xf32>) -> tensor<8xf32>
// CHECK-NEXT: %erf = fw.erf %ln2 : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %exp = fw.exp %erf : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %log = fw.log %exp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %sqrt = fw.sqrt %exp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %rcp = fw.reciprocal %sqrt : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %neg = fw.neg %rcp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %gelu = fw.gelu %neg {approximate = #fw<gelu_approximation "none">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %gelut = fw.gelu %gelu {approximate = #fw<gelu_approximation "tanh">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %pow = fw.pow %gelut {exponent = 2.000000e+00 : f32} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %lsm = fw.log_softmax %pow {axis = -1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %mf = fw.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
// CHECK-NEXT: %eq = fw.compare "equal" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
// CHECK-NEXT: %lt = fw.compare "less" %mf, %mf : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xi1>
// CHECK-NEXT: %not = fw.not %eq : (tensor<2x8xi1>) -> tensor<2x8xi1>
// CHECK-NEXT: %sel = fw.where %not, %mf, %mf : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: %exp2 = fw.expand %sel {shape = array<i64: 3, 1, 8>} : (tensor<2x8xf32>) -> tensor<3x2x8xf32>
// CHECK-NEXT: %sl = fw.slice %lsm {starts = array<i64: 0, 1, 0>, sizes = array<i64: 2, 4, 16>, steps = array<i64: 1, 2, 1>} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: %s = fw.matmul %q, %k : (tensor<2x2x8x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK-NEXT: func.return %lsm : tensor<2x8x16xf32>
func.func @transformer_ops(%x: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>, %m: tensor<2x8xi32>, %q: tensor<2x2x8x4xf32>, %k: tensor<2x2x4x8xf32>) -> tensor<2x8x16xf32> {
  %table = fw.weight "emb" : tensor<100x16xf32>
  %emb = fw.gather %table, %ids {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
  %g = fw.weight "ln.weight" : tensor<16xf32>
  %bt = fw.weight "ln.bias" : tensor<16xf32>
  %ln = fw.layer_norm %emb, %g, %bt {axis = -1 : i64, epsilon = 9.99999996e-13 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %ln2 = fw.layer_norm %ln, %g {axis = 2 : i64, epsilon = 1.000000e-05 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %mean = fw.reduce "mean" %ln2 {axes = array<i64: 2>, keepdims = true} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
  %sum = fw.reduce "sum" %ln2 {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x8x16xf32>) -> tensor<8xf32>
  %erf = fw.erf %ln2 : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %exp = fw.exp %erf : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %log = fw.log %exp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %sqrt = fw.sqrt %exp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %rcp = fw.reciprocal %sqrt : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %neg = fw.neg %rcp : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %gelu = fw.gelu %neg {approximate = #fw<gelu_approximation "none">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %gelut = fw.gelu %gelu {approximate = #fw<gelu_approximation "tanh">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %pow = fw.pow %gelut {exponent = 2.000000e+00 : f32} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %lsm = fw.log_softmax %pow {axis = -1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %mf = fw.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
  %eq = fw.compare "equal" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
  %lt = fw.compare "less" %mf, %mf : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xi1>
  %not = fw.not %eq : (tensor<2x8xi1>) -> tensor<2x8xi1>
  %sel = fw.where %not, %mf, %mf : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %exp2 = fw.expand %sel {shape = array<i64: 3, 1, 8>} : (tensor<2x8xf32>) -> tensor<3x2x8xf32>
  %sl = fw.slice %lsm {starts = array<i64: 0, 1, 0>, sizes = array<i64: 2, 4, 16>, steps = array<i64: 1, 2, 1>} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %s = fw.matmul %q, %k : (tensor<2x2x8x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x8x8xf32>
  func.return %lsm : tensor<2x8x16xf32>
}
