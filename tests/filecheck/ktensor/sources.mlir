// kaena.source survives the ktensor rewrites: fusions keep the union (producer
// first), each cast auto-cast inserts names the op it casts for.
// RUN: kaena-opt %s -p ktensor-fuse-bias-activation | filecheck %s --check-prefix=FUSE
// RUN: kaena-opt %s -p ktensor-auto-cast | filecheck %s --check-prefix=MATMULT
// RUN: kaena-opt %s -p 'ktensor-auto-cast{mode=all}' | filecheck %s --check-prefix=ALL

// Weights: ../Inputs/frontend-weights.npz (see tests/filecheck/transforms/auto-cast.mlir).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {

// FUSE-LABEL: func.func @fuse
// FUSE-NEXT:    %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
// FUSE-NEXT:    %b = ktensor.weight "fc.bias" : tensor<6xf32>
// FUSE-NEXT:    %r = ktensor.matmul %x, %w bias %b {kaena.source = ["fc", "add", "relu"], activation = "relu"}
// FUSE-NEXT:    func.return %r
func.func @fuse(%x: tensor<4x32xf32>) -> tensor<4x6xf32> {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %m = ktensor.matmul %x, %w {activation = "none", kaena.source = ["fc"]} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %a = ktensor.elementwise "add" %m, %b {activation = "none", kaena.source = ["add"]} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %r = ktensor.activation "relu" %a {kaena.source = ["relu"]} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %r : tensor<4x6xf32>
}

// One activation cast shared by two matmuls names both; weights are folded (no names).
// MATMULT-LABEL: func.func @casts
// MATMULT-NEXT:    %x_1 = ktensor.cast %x {kaena.source = ["fc1", "fc2"]} : (tensor<4x32xf32>) -> tensor<4x32xbf16>
// MATMULT-NEXT:    %w = ktensor.weight "mm.weight.{{[0-9a-f]+}}" : tensor<32x6xbf16>
// MATMULT-NEXT:    %m1 = ktensor.matmul %x_1, %w {kaena.source = ["fc1"]
// MATMULT-NEXT:    %m2 = ktensor.matmul %x_1, %w {kaena.source = ["fc2"]
// mode=all: at the function's edges: the entry cast names the argument's users, the exit cast the producer.
// ALL-LABEL: func.func @casts
// ALL-NEXT:    %x_1 = ktensor.cast %x {kaena.source = ["fc1", "fc2"]} : (tensor<4x32xf32>) -> tensor<4x32xbf16>
// ALL:         %s = ktensor.elementwise "add" %m1, %m2 {kaena.source = ["sum"]
// ALL-NEXT:    %{{.*}} = ktensor.cast %s {kaena.source = ["sum"]} : (tensor<4x6xbf16>) -> tensor<4x6xf32>
// ALL-NEXT:    func.return
func.func @casts(%x: tensor<4x32xf32>) -> tensor<4x6xf32> {
  %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %m1 = ktensor.matmul %x, %w {activation = "none", kaena.source = ["fc1"]} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %m2 = ktensor.matmul %x, %w {activation = "none", kaena.source = ["fc2"]} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %s = ktensor.elementwise "add" %m1, %m2 {activation = "none", kaena.source = ["sum"]} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}
}
