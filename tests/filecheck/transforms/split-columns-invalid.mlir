// RUN: not kaena-opt %s -p 'ktensor-split-columns' 2>&1 | filecheck %s

// A split plan whose parts do not cover the matmul's columns is refused in one line.
// CHECK: ktensor-split-columns: kaena.pipeline.split_columns [16 : i64, 8 : i64] are not positive column counts adding up to the matmul's 32 columns

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz", kaena.target = "inf1"} {
func.func @main(%x: tensor<4x6xf32> {kaena.name = "x"}) -> (tensor<4x32xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "fc.weight" : tensor<6x32xf32>
  %h = ktensor.matmul %x, %w {activation = "none", kaena.pipeline.split_columns = [16, 8]} : (tensor<4x6xf32>, tensor<6x32xf32>) -> tensor<4x32xf32>
  func.return %h : tensor<4x32xf32>
}
}
