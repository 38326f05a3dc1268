// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// The transformer fw ops lower one to one, except: a layer norm over several
// trailing dims normalises the flattened last dim (gamma broadcast into a
// derived [D] weight), a reduction without keepdims is a rank-keeping
// ktensor.reduce and a reshape, Pow(2 | 3 | -0.5) is square | x * square | rsqrt,
// gelu(tanh) is the gelu_tanh function, Expand is ktensor.broadcast.
// Weights: ../framework/Inputs/transformer-weights.npz.

// CHECK-LABEL: func.func @transformer
// CHECK-NEXT:    %emb = ktensor.weight "emb" : tensor<100x16xf32>
// CHECK-NEXT:    %e = ktensor.gather %emb, %ids {kaena.source = ["word_embeddings/Gather"]} : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %gamma = ktensor.weight "gamma" : tensor<16xf32>
// CHECK-NEXT:    %beta = ktensor.weight "beta" : tensor<16xf32>
// CHECK-NEXT:    %ln = ktensor.layer_norm %e, %gamma, %beta {epsilon = 1.000000e-12 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %ln2 = ktensor.reshape %ln : (tensor<2x8x16xf32>) -> tensor<2x128xf32>
// CHECK-NEXT:    %gamma_1 = ktensor.weight "gamma.{{[0-9a-f]+}}" : tensor<128xf32>
// CHECK-NEXT:    %ln2_1 = ktensor.layer_norm %ln2, %gamma_1 {epsilon = 1.000000e-05 : f32} : (tensor<2x128xf32>, tensor<128xf32>) -> tensor<2x128xf32>
// CHECK-NEXT:    %ln2_2 = ktensor.reshape %ln2_1 : (tensor<2x128xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %mean = ktensor.reduce "mean" %ln2_2 {axes = array<i64: 1>} : (tensor<2x8x16xf32>) -> tensor<2x1x16xf32>
// CHECK-NEXT:    %mean_1 = ktensor.reshape %mean : (tensor<2x1x16xf32>) -> tensor<2x16xf32>
// CHECK-NEXT:    %g = ktensor.activation "gelu" %x : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %gt = ktensor.activation "gelu_tanh" %g : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %p2 = ktensor.activation "square" %gt : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %p3 = ktensor.activation "square" %p2 : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %p3_1 = ktensor.elementwise "mul" %p2, %p3 {activation = "none"} : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %pr = ktensor.activation "rsqrt" %p3_1 : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %er = ktensor.activation "erf" %pr : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %lsm = ktensor.log_softmax %er {axis = 2 : i64} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %mf = ktensor.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %c = ktensor.compare "greater" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
// CHECK-NEXT:    %n = ktensor.logical_not %c : (tensor<2x8xi1>) -> tensor<2x8xi1>
// CHECK-NEXT:    %w = ktensor.select %n, %mf, %mf : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %sl = ktensor.slice %lsm {offsets = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<2x8x16xf32>) -> tensor<2x1x16xf32>
// CHECK-NEXT:    %ex = ktensor.broadcast %sl : (tensor<2x1x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    func.return %ex, %mean_1, %w : tensor<2x8x16xf32>, tensor<2x16xf32>, tensor<2x8xf32>
// CHECK-NEXT:    }
builtin.module attributes {kaena.weights = "../framework/Inputs/transformer-weights.npz"} {
func.func @transformer(%x: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>, %m: tensor<2x8xi32>) -> (tensor<2x8x16xf32>, tensor<2x16xf32>, tensor<2x8xf32>) {
  %emb = fw.weight "emb" : tensor<100x16xf32>
  %e = fw.gather %emb, %ids {axis = 0 : i64, kaena.source = ["word_embeddings/Gather"]} : (tensor<100x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
  %gamma = fw.weight "gamma" : tensor<16xf32>
  %beta = fw.weight "beta" : tensor<16xf32>
  %ln = fw.layer_norm %e, %gamma, %beta {axis = -1 : i64, epsilon = 9.99999996e-13 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %ln2 = fw.layer_norm %ln, %gamma {axis = 1 : i64, epsilon = 1.000000e-05 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %mean = fw.reduce "mean" %ln2 {axes = array<i64: 1>, keepdims = false} : (tensor<2x8x16xf32>) -> tensor<2x16xf32>
  %g = fw.gelu %x {approximate = #fw<gelu_approximation "none">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %gt = fw.gelu %g {approximate = #fw<gelu_approximation "tanh">} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %p2 = fw.pow %gt {exponent = 2.000000e+00 : f32} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %p3 = fw.pow %p2 {exponent = 3.000000e+00 : f32} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %pr = fw.pow %p3 {exponent = -5.000000e-01 : f32} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %er = fw.erf %pr : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %lsm = fw.log_softmax %er {axis = -1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %mf = fw.cast %m : (tensor<2x8xi32>) -> tensor<2x8xf32>
  %c = fw.compare "greater" %ids, %m : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2x8xi1>
  %n = fw.not %c : (tensor<2x8xi1>) -> tensor<2x8xi1>
  %w = fw.where %n, %mf, %mf : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %sl = fw.slice %lsm {starts = array<i64: 0, 0, 0>, sizes = array<i64: 2, 1, 16>, steps = array<i64: 1, 1, 1>} : (tensor<2x8x16xf32>) -> tensor<2x1x16xf32>
  %ex = fw.expand %sl {shape = array<i64: 2, 8, 16>} : (tensor<2x1x16xf32>) -> tensor<2x8x16xf32>
  func.return %ex, %mean, %w : tensor<2x8x16xf32>, tensor<2x16xf32>, tensor<2x8xf32>
}
}
