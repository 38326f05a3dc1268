// RUN: kaena-opt %s -p fw-fuse-gelu | filecheck %s

// Weights: Inputs/transformer-weights.npz (scalars half, one, sqrt2, inv_sqrt2,
// c_tanh = sqrt(2/pi), c_cube = 0.044715, three).

builtin.module attributes {kaena.weights = "Inputs/transformer-weights.npz"} {

// Hugging Face's erf GELU as torch writes it: Div(sqrt2), Erf, Add(1), Mul(x), Mul(0.5).
// The gelu names every node of the pattern.
// CHECK-LABEL: func.func @erf_gelu
// CHECK-NEXT:    %y = fw.gelu %x {kaena.source = ["mul", "add", "erf", "div", "mul_1"], approximate = #fw<gelu_approximation "none">} : (tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    func.return %y
func.func @erf_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = fw.weight "sqrt2" : tensor<f32>
  %one = fw.weight "one" : tensor<f32>
  %half = fw.weight "half" : tensor<f32>
  %d = fw.div %x, %sqrt2 {kaena.source = ["div"]} : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = fw.erf %d {kaena.source = ["erf"]} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = fw.add %e, %one {kaena.source = ["add"]} : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = fw.mul %x, %a {kaena.source = ["mul"]} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = fw.mul %m, %half {kaena.source = ["mul_1"]} : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  func.return %y : tensor<2x8xf32>
}

// Other operand orders and associations: 0.5 * x first, Mul(1/sqrt2), Add(1, erf).
// CHECK-LABEL: func.func @erf_gelu_reordered
// CHECK-NEXT:    %y = fw.gelu %x {{.*}}approximate = #fw<gelu_approximation "none">{{.*}}
// CHECK-NEXT:    func.return %y
func.func @erf_gelu_reordered(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %inv = fw.weight "inv_sqrt2" : tensor<1xf32>
  %one = fw.weight "one" : tensor<f32>
  %half = fw.weight "half" : tensor<f32>
  %d = fw.mul %inv, %x : (tensor<1xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %e = fw.erf %d : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = fw.add %one, %e : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %h = fw.mul %half, %x : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = fw.mul %a, %h : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %y : tensor<2x8xf32>
}

// The tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @tanh_gelu
// CHECK-NEXT:    %y = fw.gelu %x {{.*}}approximate = #fw<gelu_approximation "tanh">{{.*}}
// CHECK-NEXT:    func.return %y
func.func @tanh_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %three = fw.weight "three" : tensor<f32>
  %cc = fw.weight "c_cube" : tensor<f32>
  %ct = fw.weight "c_tanh" : tensor<f32>
  %one = fw.weight "one" : tensor<f32>
  %half = fw.weight "half" : tensor<f32>
  %p = fw.pow %x {exponent = 3.000000e+00 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %c = fw.mul %p, %cc : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %i = fw.add %x, %c : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %s = fw.mul %ct, %i : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %t = fw.tanh %s : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = fw.add %t, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %h = fw.mul %x, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %y = fw.mul %h, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %y : tensor<2x8xf32>
}

// Not a GELU: the erf reads another value than the one multiplied.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT:     fw.gelu
// CHECK:         fw.erf
func.func @not_gelu(%x: tensor<2x8xf32>, %z: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = fw.weight "sqrt2" : tensor<f32>
  %one = fw.weight "one" : tensor<f32>
  %half = fw.weight "half" : tensor<f32>
  %d = fw.div %z, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = fw.erf %d : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = fw.add %e, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = fw.mul %x, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = fw.mul %m, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  func.return %y : tensor<2x8xf32>
}

}
