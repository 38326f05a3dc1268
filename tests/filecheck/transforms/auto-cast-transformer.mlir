// RUN: kaena-opt %s -p auto-cast | filecheck %s --check-prefix=MATMULT
// RUN: kaena-opt %s -p 'auto-cast{mode=all}' | filecheck %s --check-prefix=ALL

// Weights: ../Inputs/frontend-weights.npz (vec [32]).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {
  func.func @main(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x4x8xf32>, %m: tensor<1x8xi32>) -> (tensor<1x2x8x8xf32>, tensor<1x8xf32>, tensor<32xi32>) {
    %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
    %mf = ktensor.cast %m : (tensor<1x8xi32>) -> tensor<1x8xf32>
    %v = ktensor.weight "vec" : tensor<32xf32>
    %vi = ktensor.cast %v : (tensor<32xf32>) -> tensor<32xi32>
    func.return %s, %mf, %vi : tensor<1x2x8x8xf32>, tensor<1x8xf32>, tensor<32xi32>
  }
}

// matmult: batch_matmul operands are contraction operands; masks and ints are left alone.
// MATMULT-DAG:  %q_1 = ktensor.cast %q : (tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xbf16>
// MATMULT-DAG:  %k_1 = ktensor.cast %k : (tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xbf16>
// MATMULT:      %s = ktensor.batch_matmul %q_1, %k_1 {{.*}} : (tensor<1x2x8x4xbf16>, tensor<1x2x4x8xbf16>) -> tensor<1x2x8x8xf32>
// MATMULT-NEXT: %mf = ktensor.cast %m : (tensor<1x8xi32>) -> tensor<1x8xf32>
// MATMULT-NEXT: %v = ktensor.weight "vec" : tensor<32xf32>

// all: an i32 -> f32 cast goes straight to bf16; an f32 weight that only feeds a
// cast to i32 (an integer constant) stays f32, so the integers stay exact.
// ALL:          %mf = ktensor.cast %m : (tensor<1x8xi32>) -> tensor<1x8xbf16>
// ALL-NEXT:     %v = ktensor.weight "vec" : tensor<32xf32>
// ALL-NEXT:     %vi = ktensor.cast %v : (tensor<32xf32>) -> tensor<32xi32>
