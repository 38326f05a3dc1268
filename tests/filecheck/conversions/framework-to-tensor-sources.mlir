// Every ktensor op made from an fw op names that op's nodes (kaena.source);
// weights are data and name none.
// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// Weights: ../Inputs/frontend-weights.npz (see tests/filecheck/transforms/auto-cast.mlir).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {

// Gemm with alpha on activations and a full-shaped C: matmul, scale and add all name the Gemm.
// CHECK-LABEL: func.func @gemm
// CHECK-NEXT:    %{{.*}} = ktensor.matmul %x, %b {kaena.source = ["fc"], activation = "none"}
// CHECK-NEXT:    %{{.*}} = ktensor.weight "gemm.alpha.{{[0-9a-f]+}}" : tensor<1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.elementwise "mul" %{{.*}}, %{{.*}} {kaena.source = ["fc"], activation = "none"}
// CHECK-NEXT:    %{{.*}} = ktensor.elementwise "add" %{{.*}}, %c {kaena.source = ["fc"], activation = "none"}
// CHECK-NEXT:    %r = ktensor.activation "relu" %{{.*}} {kaena.source = ["relu"]}
// CHECK-NEXT:    func.return %r
func.func @gemm(%x: tensor<4x32xf32>, %b: tensor<32x6xf32>, %c: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %y = fw.gemm %x, %b, %c {alpha = 2.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = false, kaena.source = ["fc"]} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  %r = fw.relu %y {kaena.source = ["relu"]} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %r : tensor<4x6xf32>
}

// A conv (fused in fw already: three nodes) keeps all its names; a one-sided
// clip becomes a max by a scalar weight that names the clip.
// CHECK-LABEL: func.func @conv_clip
// CHECK:         %c = ktensor.conv2d %x, %w bias %b {kaena.source = ["conv", "add", "relu"]
// CHECK:         %{{.*}} = ktensor.weight "clip.max.{{[0-9a-f]+}}" : tensor<1xf32>
// CHECK-NEXT:    %y = ktensor.elementwise "max" %c, %{{.*}} {kaena.source = ["clip"]
func.func @conv_clip(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %w = fw.weight "conv.weight" : tensor<8x3x3x3xf32>
  %b = fw.weight "conv.bias" : tensor<8xf32>
  %c = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, activation = #fw<conv_activation "relu">, kaena.source = ["conv", "add", "relu"]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %y = fw.clip %c {min = 0.5 : f32, kaena.source = ["clip"]} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  func.return %y : tensor<1x8x8x8xf32>
}

// Layout ops and pools keep their node; an identity disappears with its name.
// CHECK-LABEL: func.func @layout
// CHECK-NEXT:    %p = ktensor.pool2d "max" %x {kaena.source = ["pool"]
// CHECK-NEXT:    %f = ktensor.reshape %p {kaena.source = ["flatten"]}
// CHECK-NEXT:    %s = ktensor.softmax %f {kaena.source = ["softmax"]
// CHECK-NEXT:    func.return %s
func.func @layout(%x: tensor<1x8x8x8xf32>) -> tensor<1x128xf32> {
  %p = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, kaena.source = ["pool"]} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %i = fw.identity %p {kaena.source = ["identity"]} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %f = fw.flatten %i {axis = 1 : i64, kaena.source = ["flatten"]} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32>
  %s = fw.softmax %f {axis = -1 : i64, kaena.source = ["softmax"]} : (tensor<1x128xf32>) -> tensor<1x128xf32>
  func.return %s : tensor<1x128xf32>
}
}
