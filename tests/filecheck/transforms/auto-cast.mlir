// RUN: kaena-opt %s -p auto-cast | filecheck %s --check-prefix=MATMULT
// RUN: kaena-opt %s -p 'auto-cast{mode=all}' | filecheck %s --check-prefix=ALL
// RUN: kaena-opt %s -p 'auto-cast{mode=none}' | filecheck %s --check-prefix=NONE
// RUN: kaena-opt %s -p 'auto-cast{mode=matmult type=fp16}' | filecheck %s --check-prefix=FP16

// Weights: ../Inputs/frontend-weights.npz, seeded float32 arrays:
//   fc.weight [6,32], fc.bias [6], fc.bias_row [1,6], c.mat [4,6], a.weight [32,4],
//   mm.weight [32,6], vec [32], conv.weight [8,3,3,3], conv.bias [8],
//   conv.bias3 [8,1,1], conv.bias4 [1,8,1,1], scalar [] (0-d).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {
  func.func @main(%x: tensor<1x3x8x8xf32>, %v: tensor<4x32xf32>) -> (tensor<1x8x8x8xf32>, tensor<4x6xf32>) {
    %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xf32>
    %b = ktensor.weight "conv.bias" : tensor<8xf32>
    %c = ktensor.conv2d %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
    %fw = ktensor.weight "mm.weight" : tensor<32x6xf32>
    %fb = ktensor.weight "fc.bias" : tensor<6xf32>
    %m = ktensor.matmul %v, %fw bias %fb {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
    %m2 = ktensor.matmul %v, %fw {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
    %s = ktensor.elementwise "add" %m, %m2 {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
    %sm = ktensor.softmax %s {axis = 1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
    func.return %c, %sm : tensor<1x8x8x8xf32>, tensor<4x6xf32>
  }
}

// matmult: contraction operands in BF16 (one cast per value, weights folded), results and biases FP32.
// MATMULT:      func.func @main(%x: tensor<1x3x8x8xf32>, %v: tensor<4x32xf32>) -> (tensor<1x8x8x8xf32>, tensor<4x6xf32>) {
// MATMULT-NEXT:   %v_1 = ktensor.cast %v : (tensor<4x32xf32>) -> tensor<4x32xbf16>
// MATMULT-NEXT:   %x_1 = ktensor.cast %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
// MATMULT-NEXT:   %w = ktensor.weight "conv.weight.{{[0-9a-f]+}}" : tensor<8x3x3x3xbf16>
// MATMULT-NEXT:   %b = ktensor.weight "conv.bias" : tensor<8xf32>
// MATMULT-NEXT:   %c = ktensor.conv2d %x_1, %w bias %b {{{.*}}} : (tensor<1x3x8x8xbf16>, tensor<8x3x3x3xbf16>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
// MATMULT-NEXT:   %fw = ktensor.weight "mm.weight.{{[0-9a-f]+}}" : tensor<32x6xbf16>
// MATMULT-NEXT:   %fb = ktensor.weight "fc.bias" : tensor<6xf32>
// MATMULT-NEXT:   %m = ktensor.matmul %v_1, %fw bias %fb {activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xf32>) -> tensor<4x6xf32>
// MATMULT-NEXT:   %m2 = ktensor.matmul %v_1, %fw {activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>) -> tensor<4x6xf32>
// MATMULT-NEXT:   %s = ktensor.elementwise "add" %m, %m2 {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
// MATMULT-NEXT:   %sm = ktensor.softmax %s {axis = 1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
// MATMULT-NEXT:   func.return %c, %sm : tensor<1x8x8x8xf32>, tensor<4x6xf32>

// all: everything in BF16, FP32 only at the function's edges.
// ALL:      func.func @main(%x: tensor<1x3x8x8xf32>, %v: tensor<4x32xf32>) -> (tensor<1x8x8x8xf32>, tensor<4x6xf32>) {
// ALL-NEXT:   %x_1 = ktensor.cast %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
// ALL-NEXT:   %v_1 = ktensor.cast %v : (tensor<4x32xf32>) -> tensor<4x32xbf16>
// ALL-NEXT:   %w = ktensor.weight "conv.weight.{{[0-9a-f]+}}" : tensor<8x3x3x3xbf16>
// ALL-NEXT:   %b = ktensor.weight "conv.bias.{{[0-9a-f]+}}" : tensor<8xbf16>
// ALL-NEXT:   %c = ktensor.conv2d %x_1, %w bias %b {{{.*}}} : (tensor<1x3x8x8xbf16>, tensor<8x3x3x3xbf16>, tensor<8xbf16>) -> tensor<1x8x8x8xbf16>
// ALL-NEXT:   %fw = ktensor.weight "mm.weight.{{[0-9a-f]+}}" : tensor<32x6xbf16>
// ALL-NEXT:   %fb = ktensor.weight "fc.bias.{{[0-9a-f]+}}" : tensor<6xbf16>
// ALL-NEXT:   %m = ktensor.matmul %v_1, %fw bias %fb {activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xbf16>) -> tensor<4x6xbf16>
// ALL-NEXT:   %m2 = ktensor.matmul %v_1, %fw {activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>) -> tensor<4x6xbf16>
// ALL-NEXT:   %s = ktensor.elementwise "add" %m, %m2 {activation = "none"} : (tensor<4x6xbf16>, tensor<4x6xbf16>) -> tensor<4x6xbf16>
// ALL-NEXT:   %sm = ktensor.softmax %s {axis = 1 : i64} : (tensor<4x6xbf16>) -> tensor<4x6xbf16>
// ALL-NEXT:   %0 = ktensor.cast %c : (tensor<1x8x8x8xbf16>) -> tensor<1x8x8x8xf32>
// ALL-NEXT:   %1 = ktensor.cast %sm : (tensor<4x6xbf16>) -> tensor<4x6xf32>
// ALL-NEXT:   func.return %0, %1 : tensor<1x8x8x8xf32>, tensor<4x6xf32>

// NONE-NOT: bf16
// NONE-NOT: ktensor.cast
// NONE: ktensor.matmul %v, %fw bias %fb

// FP16-NOT: bf16
// FP16: %m = ktensor.matmul %v_1, %fw bias %fb {activation = "none"} : (tensor<4x32xf16>, tensor<32x6xf16>, tensor<6xf32>) -> tensor<4x6xf32>
