// RUN: kaena-opt %s -p fw-fuse-conv | filecheck %s

builtin.module attributes {kaena.weights = "Inputs/fw-weights.npz"} {

// A per-channel add joins the conv bias and a relu becomes the conv's activation.
// CHECK-LABEL: func.func @bias_relu
// CHECK-NEXT:    %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
// CHECK-NEXT:    %{{.*}} = fw.weight "conv.bias.{{[0-9a-f]+}}" : tensor<4xf32>
// CHECK-NEXT:    %r = fw.conv %x, %w, %{{.*}} {{{.*}}activation = #fw<conv_activation "relu">{{.*}}} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:    func.return %r
func.func @bias_relu(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %b = fw.weight "conv.bias" : tensor<4xf32>
  %c = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %cb = fw.weight "chan.bias" : tensor<4x1x1xf32>
  %a = fw.add %c, %cb : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %r = fw.relu %a : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %r : tensor<1x4x6x6xf32>
}

// Clip(0, 6) is relu6; a clip with other bounds is not fusable.
// CHECK-LABEL: func.func @relu6
// CHECK:         %r = fw.conv %x, %w {{{.*}}activation = #fw<conv_activation "relu6">{{.*}}}
// CHECK:         %k = fw.clip %r {min = 1.000000e+00 : f32, max = 6.000000e+00 : f32}
func.func @relu6(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %c = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = fw.clip %c {min = 0.0 : f32, max = 6.0 : f32} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %k = fw.clip %r {min = 1.0 : f32, max = 6.0 : f32} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %k : tensor<1x4x6x6xf32>
}

// A conv whose result is also returned cannot take the activation.
// CHECK-LABEL: func.func @shared
// CHECK:         %c = fw.conv
// CHECK-NOT:     activation
// CHECK:         %r = fw.relu %c
func.func @shared(%x: tensor<1x2x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %c = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = fw.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %r, %c : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}
}
