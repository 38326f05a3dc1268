// RUN: kaena-opt %s -p auto-cast | filecheck %s
// matmult: a conv whose input is a single-use FP32 concat (or nearest resize) of FP32 values
// reads the concat of their BF16 casts instead (the same bits: the ops only move elements),
// sharing the cast another conv already reads (SSD's top-down merge); the FP32 concat and
// resize are gone. A concat with a second user keeps its FP32 result and is cast after it.

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {
  func.func @main(%a: tensor<1x3x8x8xf32>, %c: tensor<1x3x4x4xf32>, %w2: tensor<8x6x1x1xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x6x8x8xf32>) {
    %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xf32>
    %y0 = ktensor.conv2d %a, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
    %up = ktensor.resize_nearest %c {scales = array<i64: 2, 2>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
    %m = ktensor.concat %a, %up {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x6x8x8xf32>
    %y1 = ktensor.conv2d %m, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x6x8x8xf32>, tensor<8x6x1x1xf32>) -> tensor<1x8x8x8xf32>
    %m2 = ktensor.concat %a, %a {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x6x8x8xf32>
    %y2 = ktensor.conv2d %m2, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x6x8x8xf32>, tensor<8x6x1x1xf32>) -> tensor<1x8x8x8xf32>
    func.return %y0, %y1, %y2, %m2 : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x6x8x8xf32>
  }
}

// CHECK-DAG:  %a_1 = ktensor.cast %a : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
// CHECK-DAG:  %c_1 = ktensor.cast %c : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xbf16>
// CHECK-NOT:  ktensor.resize_nearest %c :
// CHECK:      %up = ktensor.resize_nearest %c_1 {scales = array<i64: 2, 2>} : (tensor<1x3x4x4xbf16>) -> tensor<1x3x8x8xbf16>
// CHECK-NOT:  ktensor.concat %a, %up
// CHECK:      %m = ktensor.concat %a_1, %up {axis = 1 : i64} : (tensor<1x3x8x8xbf16>, tensor<1x3x8x8xbf16>) -> tensor<1x6x8x8xbf16>
// CHECK:      ktensor.conv2d %m, %w2_1
// CHECK:      %m2 = ktensor.concat %a, %a {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x6x8x8xf32>
// CHECK-NEXT: %m2_1 = ktensor.cast %m2 : (tensor<1x6x8x8xf32>) -> tensor<1x6x8x8xbf16>
