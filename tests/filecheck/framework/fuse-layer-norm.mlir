// RUN: kaena-opt %s -p fw-fuse-layer-norm | filecheck %s

// Weights: Inputs/transformer-weights.npz (gamma, beta [16]; scalars two, eps).

builtin.module attributes {kaena.weights = "Inputs/transformer-weights.npz"} {

// nn.LayerNorm as torch exports it below opset 17: nine nodes -> one layer_norm
// naming all of them.
// CHECK-LABEL: func.func @decomposed
// CHECK-NEXT:    %gamma = fw.weight "gamma" : tensor<16xf32>
// CHECK-NEXT:    %beta = fw.weight "beta" : tensor<16xf32>
// CHECK-NEXT:    %y = fw.layer_norm %x, %gamma, %beta {kaena.source = ["div", "sqrt", "add_eps", "var", "pow", "sub", "mean", "mul", "add"], axis = 2 : i64, epsilon = 1.000000e-12 : f32} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    func.return %y
func.func @decomposed(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %two = fw.weight "two" : tensor<f32>
  %eps = fw.weight "eps" : tensor<f32>
  %gamma = fw.weight "gamma" : tensor<16xf32>
  %beta = fw.weight "beta" : tensor<16xf32>
  %m = fw.reduce "mean" %x {axes = array<i64: 2>, keepdims = true, kaena.source = ["mean"]} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
  %d = fw.sub %x, %m {kaena.source = ["sub"]} : (tensor<2x8x16xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %p = fw.pow %d {exponent = 2.000000e+00 : f32, kaena.source = ["pow"]} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %v = fw.reduce "mean" %p {axes = array<i64: 2>, keepdims = true, kaena.source = ["var"]} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
  %a = fw.add %v, %eps {kaena.source = ["add_eps"]} : (tensor<2x8x1xf32>, tensor<f32>) -> tensor<2x8x1xf32>
  %s = fw.sqrt %a {kaena.source = ["sqrt"]} : (tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %n = fw.div %d, %s {kaena.source = ["div"]} : (tensor<2x8x16xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %g = fw.mul %n, %gamma {kaena.source = ["mul"]} : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %y = fw.add %beta, %g {kaena.source = ["add"]} : (tensor<16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  func.return %y : tensor<2x8x16xf32>
}

// Without beta, gamma first, the square as d * d.
// CHECK-LABEL: func.func @no_bias
// CHECK:         %y = fw.layer_norm %x, %gamma {{.*}}axis = 2 : i64
// CHECK-NOT:     fw.reduce
func.func @no_bias(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %eps = fw.weight "eps" : tensor<f32>
  %gamma = fw.weight "gamma" : tensor<16xf32>
  %m = fw.reduce "mean" %x {axes = array<i64: 2>, keepdims = true} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
  %d = fw.sub %x, %m : (tensor<2x8x16xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %p = fw.mul %d, %d : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %v = fw.reduce "mean" %p {axes = array<i64: 2>, keepdims = true} : (tensor<2x8x16xf32>) -> tensor<2x8x1xf32>
  %a = fw.add %eps, %v : (tensor<f32>, tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %s = fw.sqrt %a : (tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %n = fw.div %d, %s : (tensor<2x8x16xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %y = fw.mul %gamma, %n : (tensor<16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  func.return %y : tensor<2x8x16xf32>
}

// Statistics over a non-trailing axis: not a layer norm, left alone.
// CHECK-LABEL: func.func @not_trailing
// CHECK-NOT:     fw.layer_norm
func.func @not_trailing(%x: tensor<2x16x8xf32>) -> tensor<2x16x8xf32> {
  %two = fw.weight "two" : tensor<f32>
  %eps = fw.weight "eps" : tensor<f32>
  %gamma = fw.weight "gamma" : tensor<16xf32>
  %m = fw.reduce "mean" %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x16x8xf32>) -> tensor<2x1x8xf32>
  %d = fw.sub %x, %m : (tensor<2x16x8xf32>, tensor<2x1x8xf32>) -> tensor<2x16x8xf32>
  %p = fw.pow %d {exponent = 2.000000e+00 : f32} : (tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  %v = fw.reduce "mean" %p {axes = array<i64: 1>, keepdims = true} : (tensor<2x16x8xf32>) -> tensor<2x1x8xf32>
  %a = fw.add %v, %eps : (tensor<2x1x8xf32>, tensor<f32>) -> tensor<2x1x8xf32>
  %s = fw.sqrt %a : (tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %n = fw.div %d, %s : (tensor<2x16x8xf32>, tensor<2x1x8xf32>) -> tensor<2x16x8xf32>
  func.return %n : tensor<2x16x8xf32>
}

}
