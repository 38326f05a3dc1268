// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

builtin.module attributes {kaena.weights = "../framework/Inputs/fw-weights.npz"} {

// Vision operators map onto ktensor one to one; clip(0, 6) is the fusable relu6.
// CHECK-LABEL: func.func @vision
// CHECK-NEXT:    %l = ktensor.activation "leaky_relu" %x {alpha = 1.000000e-01 : f32}
// CHECK-NEXT:    %c = ktensor.activation "relu6" %l
// CHECK-NEXT:    %k = ktensor.activation "clip" %c {alpha = -1.000000e+00 : f32, beta = 2.000000e+00 : f32}
// CHECK-NEXT:    %h = ktensor.activation "hard_sigmoid" %k {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32}
// CHECK-NEXT:    %s = ktensor.activation "hard_swish" %h
// CHECK-NEXT:    %p = ktensor.pad "reflect" %s {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 0.000000e+00 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
// CHECK-NEXT:    %u = ktensor.resize_nearest %s {scales = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
// CHECK-NEXT:    %j = ktensor.concat %x, %s {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
func.func @vision(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x8x8xf32>, tensor<1x4x4x4xf32>) {
  %l = fw.leaky_relu %x {alpha = 0.1 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = fw.clip %l {min = 0.0 : f32, max = 6.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %k = fw.clip %c {min = -1.0 : f32, max = 2.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %h = fw.hard_sigmoid %k {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %s = fw.hard_swish %h : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = fw.pad %s {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = #fw<pad_mode "reflect">, value = 0.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
  %u = fw.resize_nearest %s {scales = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  %j = fw.concat %x, %s {axis = -3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %p, %u, %j : tensor<1x2x6x6xf32>, tensor<1x2x8x8xf32>, tensor<1x4x4x4xf32>
}

// A batch norm that no conv absorbed is a per-channel multiply-add by derived weights.
// CHECK-LABEL: func.func @batch_norm
// CHECK-NEXT:    %{{.*}} = ktensor.weight "bn.scale.bn_mul.{{[0-9a-f]+}}" : tensor<4x1x1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.elementwise "mul" %x, %{{.*}}
// CHECK-NEXT:    %{{.*}} = ktensor.weight "bn.scale.bn_add.{{[0-9a-f]+}}" : tensor<4x1x1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.elementwise "add"
func.func @batch_norm(%x: tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %s = fw.weight "bn.scale" : tensor<4xf32>
  %o = fw.weight "bn.bias" : tensor<4xf32>
  %m = fw.weight "bn.mean" : tensor<4xf32>
  %v = fw.weight "bn.var" : tensor<4xf32>
  %y = fw.batch_norm %x, %s, %o, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<1x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
  func.return %y : tensor<1x4x3x3xf32>
}
}
