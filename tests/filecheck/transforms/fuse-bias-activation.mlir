// RUN: kaena-opt %s -p ktensor-fuse-bias-activation | filecheck %s

// Weights: ../Inputs/frontend-weights.npz (see auto-cast.mlir for names and shapes).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {

// matmul -> add bias -> relu becomes one matmul; a [1, N] bias is re-laid-out as [N].
// CHECK-LABEL: func.func @matmul_bias_relu
// CHECK-NEXT:    %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
// CHECK-NEXT:    %b = ktensor.weight "fc.bias" : tensor<6xf32>
// CHECK-NEXT:    %r = ktensor.matmul %x, %w bias %b {activation = "relu"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %r2 = ktensor.weight "fc.bias_row.{{[0-9a-f]+}}" : tensor<6xf32>
// CHECK-NEXT:    %a2 = ktensor.matmul %x, %w bias %r2 {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %r, %a2
func.func @matmul_bias_relu(%x: tensor<4x32xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>) {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %m = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %a = ktensor.elementwise "add" %m, %b {activation = "none"} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %r = ktensor.activation "relu" %a : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %r2 = ktensor.weight "fc.bias_row" : tensor<1x6xf32>
  %m2 = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %a2 = ktensor.elementwise "add" %r2, %m2 {activation = "none"} : (tensor<1x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %r, %a2 : tensor<4x6xf32>, tensor<4x6xf32>
}

// Channel biases of conv2d are [C, 1, 1] or [1, C, 1, 1]; a [C] add broadcasts
// along W, so it is not a bias and stays.
// CHECK-LABEL: func.func @conv_bias
// CHECK-NEXT:    %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xf32>
// CHECK-NEXT:    %b3 = ktensor.weight "conv.bias3.{{[0-9a-f]+}}" : tensor<8xf32>
// CHECK-NEXT:    %t = ktensor.conv2d %x, %w bias %b3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "tanh"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %b4 = ktensor.weight "conv.bias4.{{[0-9a-f]+}}" : tensor<8xf32>
// CHECK-NEXT:    %a4 = ktensor.conv2d %x, %w bias %b4 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %b8 = ktensor.weight "conv.bias" : tensor<8xf32>
// CHECK-NEXT:    %c8 = ktensor.conv2d %x, %w {{{.*}}activation = "none"}
// CHECK-NEXT:    %a8 = ktensor.elementwise "add" %c8, %b8
func.func @conv_bias(%x: tensor<1x3x8x8xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) {
  %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xf32>
  %b3 = ktensor.weight "conv.bias3" : tensor<8x1x1xf32>
  %c3 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %a3 = ktensor.elementwise "add" %c3, %b3 {activation = "none"} : (tensor<1x8x8x8xf32>, tensor<8x1x1xf32>) -> tensor<1x8x8x8xf32>
  %t = ktensor.activation "tanh" %a3 : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %b4 = ktensor.weight "conv.bias4" : tensor<1x8x1x1xf32>
  %c4 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %a4 = ktensor.elementwise "add" %c4, %b4 {activation = "none"} : (tensor<1x8x8x8xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x8x8xf32>
  %b8 = ktensor.weight "conv.bias" : tensor<8xf32>
  %c8 = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %a8 = ktensor.elementwise "add" %c8, %b8 {activation = "none"} : (tensor<1x8x8x8xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  func.return %t, %a4, %a8 : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>
}

// Elementwise ops take a fused activation too.
// CHECK-LABEL: func.func @elementwise_activation
// CHECK-NEXT:    %s = ktensor.elementwise "mul" %x, %y {activation = "sigmoid"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %s
func.func @elementwise_activation(%x: tensor<4x6xf32>, %y: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %m = ktensor.elementwise "mul" %x, %y {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  %s = ktensor.activation "sigmoid" %m : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}

// No fusion: a second use of the producer, an activation already set, a bias
// already present, or an addend that is not a weight.
// CHECK-LABEL: func.func @no_fusion
// CHECK-NEXT:    %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
// CHECK-NEXT:    %b = ktensor.weight "fc.bias" : tensor<6xf32>
// CHECK-NEXT:    %m = ktensor.matmul %x, %w {activation = "none"}
// CHECK-NEXT:    %r = ktensor.activation "relu" %m
// CHECK-NEXT:    %n = ktensor.matmul %x, %w {activation = "relu"}
// CHECK-NEXT:    %s = ktensor.activation "sigmoid" %n
// CHECK-NEXT:    %p = ktensor.matmul %x, %w bias %b {activation = "none"}
// CHECK-NEXT:    %pa = ktensor.elementwise "add" %p, %b
// CHECK-NEXT:    %q = ktensor.matmul %x, %w {activation = "none"}
// CHECK-NEXT:    %qa = ktensor.elementwise "add" %q, %m
// CHECK-NEXT:    func.return %r, %m, %s, %pa, %qa
func.func @no_fusion(%x: tensor<4x32xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>) {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %m = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %r = ktensor.activation "relu" %m : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %n = ktensor.matmul %x, %w {activation = "relu"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %s = ktensor.activation "sigmoid" %n : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %p = ktensor.matmul %x, %w bias %b {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %pa = ktensor.elementwise "add" %p, %b {activation = "none"} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %q = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %qa = ktensor.elementwise "add" %q, %m {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %r, %m, %s, %pa, %qa : tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>
}

// A Linear layer on [B, S, H] lowers to a matmul between reshapes: the bias add
// and the gelu after the reshape still fuse (the reshape moves after the matmul).
// CHECK-LABEL: func.func @linear_3d_bias_gelu
// CHECK-NEXT:    %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
// CHECK-NEXT:    %b = ktensor.weight "fc.bias" : tensor<6xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.matmul %x, %w bias %b {activation = "gelu"} : (tensor<16x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<16x6xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape %{{.*}} : (tensor<16x6xf32>) -> tensor<2x8x6xf32>
// CHECK-NEXT:    func.return
func.func @linear_3d_bias_gelu(%x: tensor<16x32xf32>) -> tensor<2x8x6xf32> {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %m = ktensor.matmul %x, %w {activation = "none"} : (tensor<16x32xf32>, tensor<32x6xf32>) -> tensor<16x6xf32>
  %r = ktensor.reshape %m : (tensor<16x6xf32>) -> tensor<2x8x6xf32>
  %a = ktensor.elementwise "add" %b, %r {activation = "none"} : (tensor<6xf32>, tensor<2x8x6xf32>) -> tensor<2x8x6xf32>
  %g = ktensor.activation "gelu" %a : (tensor<2x8x6xf32>) -> tensor<2x8x6xf32>
  func.return %g : tensor<2x8x6xf32>
}

// Functions the scalar engine cannot apply while results leave PSUM
// (parametrised, or standalone-only such as erf and rsqrt) do not fuse.
// CHECK-LABEL: func.func @not_fusable
// CHECK:         ktensor.matmul {{.*}}activation = "none"
// CHECK-NEXT:    ktensor.activation "leaky_relu"
// CHECK:         ktensor.matmul {{.*}}activation = "none"
// CHECK-NEXT:    ktensor.activation "rsqrt"
func.func @not_fusable(%x: tensor<4x32xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>) {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %m = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %l = ktensor.activation "leaky_relu" %m {alpha = 1.000000e-01 : f32} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %m2 = ktensor.matmul %x, %w {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %q = ktensor.activation "rsqrt" %m2 : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %l, %q : tensor<4x6xf32>, tensor<4x6xf32>
}

}
