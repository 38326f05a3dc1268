// RUN: kaena-opt %s -p fw-fold-batchnorm | filecheck %s

// Weights: Inputs/fw-weights.npz (conv.weight [4,2,3,3], conv.bias/bn.* [4]).

builtin.module attributes {kaena.weights = "Inputs/fw-weights.npz"} {

// A batch norm after a conv (sole user) becomes derived conv weights and bias.
// CHECK-LABEL: func.func @after_conv
// CHECK-NEXT:    %{{.*}} = fw.weight "conv.weight.{{[0-9a-f]+}}" : tensor<4x2x3x3xf32>
// CHECK-NEXT:    %{{.*}} = fw.weight "conv.bias.{{[0-9a-f]+}}" : tensor<4xf32>
// CHECK-NEXT:    %y = fw.conv %x, %{{.*}}, %{{.*}} {{.*}} -> tensor<1x4x6x6xf32>
// CHECK-NEXT:    func.return %y
// CHECK-NOT:     fw.batch_norm
func.func @after_conv(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %b = fw.weight "conv.bias" : tensor<4xf32>
  %c = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %s = fw.weight "bn.scale" : tensor<4xf32>
  %o = fw.weight "bn.bias" : tensor<4xf32>
  %m = fw.weight "bn.mean" : tensor<4xf32>
  %v = fw.weight "bn.var" : tensor<4xf32>
  %y = fw.batch_norm %c, %s, %o, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  func.return %y : tensor<1x4x6x6xf32>
}

// A conv with another user keeps its own result: the batch norm stays.
// CHECK-LABEL: func.func @conv_shared
// CHECK:         %c = fw.conv
// CHECK:         %y = fw.batch_norm %c
// CHECK:         %z = fw.add %y, %c
func.func @conv_shared(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %c = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  %s = fw.weight "bn.scale" : tensor<4xf32>
  %o = fw.weight "bn.bias" : tensor<4xf32>
  %m = fw.weight "bn.mean" : tensor<4xf32>
  %v = fw.weight "bn.var" : tensor<4xf32>
  %y = fw.batch_norm %c, %s, %o, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %z = fw.add %y, %c : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %z : tensor<1x4x6x6xf32>
}
}
