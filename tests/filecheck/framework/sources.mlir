// kaena.source (the ONNX nodes an op implements) survives every fw rewrite.
// RUN: kaena-opt %s -p fw-constant-fold | filecheck %s --check-prefix=FOLD
// RUN: kaena-opt %s -p fw-fold-batchnorm | filecheck %s --check-prefix=BN
// RUN: kaena-opt %s -p fw-fuse-conv | filecheck %s --check-prefix=FUSE
// RUN: kaena-opt %s -p fw-fold-batchnorm,fw-fuse-conv | filecheck %s --check-prefix=BOTH
// RUN: kaena-opt %s -p fw-dce | filecheck %s --check-prefix=DCE

// Weights: Inputs/fw-weights.npz (conv.weight [4,2,3,3], conv.bias/bn.* [4], chan.bias [4,1,1], a [2,3], b [3]).

builtin.module attributes {kaena.weights = "Inputs/fw-weights.npz"} {

// A folded node becomes data (a weight names no node); the ops left keep theirs.
// FOLD-LABEL: func.func @fold
// FOLD-NEXT:    %t = fw.weight "t.{{[0-9a-f]+}}" : tensor<3x2xf32>
// FOLD-NEXT:    %y = fw.add %x, %t {kaena.source = ["add"]}
// FOLD-NEXT:    func.return %y
func.func @fold(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %a = fw.weight "a" : tensor<2x3xf32>
  %t = fw.transpose %a {perm = array<i64: 1, 0>, kaena.source = ["transpose"]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = fw.add %x, %t {kaena.source = ["add"]} : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}

// conv -> batch norm -> add per-channel -> relu.
// fw-fold-batchnorm: the folded conv names the conv, then the batch norm.
// BN-LABEL: func.func @conv_bn_add_relu
// BN:         %y = fw.conv %x, %{{.*}}, %{{.*}} {kaena.source = ["conv1", "bn1"]
// BN:         %a = fw.add %c2, %cb {kaena.source = ["add1"]}
// BN-NEXT:    %r = fw.relu %a {kaena.source = ["relu1"]}
// fw-fuse-conv: the bias add and the activation join the conv: all three names, in order.
// FUSE-LABEL: func.func @conv_bn_add_relu
// FUSE:         %c = fw.conv %x, %w, %b {kaena.source = ["conv1"]
// FUSE:         %y = fw.batch_norm %c, {{.*}} {kaena.source = ["bn1"]
// FUSE:         %r = fw.conv %x, %w, %{{.*}} {kaena.source = ["conv2", "add1", "relu1"]{{.*}}activation = #fw<conv_activation "relu">
// BOTH-LABEL: func.func @conv_bn_add_relu
// BOTH:         %y = fw.conv %x, %{{.*}}, %{{.*}} {kaena.source = ["conv1", "bn1"]
// BOTH:         %r = fw.conv %x, %w, %{{.*}} {kaena.source = ["conv2", "add1", "relu1"]{{.*}}activation = #fw<conv_activation "relu">
// BOTH-NOT:     fw.batch_norm
func.func @conv_bn_add_relu(%x: tensor<1x2x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %w = fw.weight "conv.weight" : tensor<4x2x3x3xf32>
  %b = fw.weight "conv.bias" : tensor<4xf32>
  %c = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, kaena.source = ["conv1"]} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %s = fw.weight "bn.scale" : tensor<4xf32>
  %o = fw.weight "bn.bias" : tensor<4xf32>
  %m = fw.weight "bn.mean" : tensor<4xf32>
  %v = fw.weight "bn.var" : tensor<4xf32>
  %y = fw.batch_norm %c, %s, %o, %m, %v {epsilon = 1.0e-05 : f32, kaena.source = ["bn1"]} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %c2 = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, kaena.source = ["conv2"]} : (tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %cb = fw.weight "chan.bias" : tensor<4x1x1xf32>
  %a = fw.add %c2, %cb {kaena.source = ["add1"]} : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %r = fw.relu %a {kaena.source = ["relu1"]} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %y, %r : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// fw-dce only removes; what stays keeps its names.
// DCE-LABEL: func.func @dead
// DCE-NEXT:    %r = fw.relu %x {kaena.source = ["keep"]}
// DCE-NEXT:    func.return %r
func.func @dead(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %d = fw.sigmoid %x {kaena.source = ["dead"]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = fw.relu %x {kaena.source = ["keep"]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %r : tensor<2x3xf32>
}
}
