// ktensor ops are Pure: xDSL's cse merges duplicates and dce drops dead ones.
// RUN: kaena-opt %s -p cse,dce | filecheck %s

// CHECK-LABEL: func.func @main
// CHECK-COUNT-1: ktensor.reshape
// CHECK-NOT:     ktensor.activation
// CHECK:         ktensor.elementwise "add"
func.func @main(%x: tensor<2x8xf32>) -> tensor<16xf32> {
  %a = ktensor.reshape %x : (tensor<2x8xf32>) -> tensor<16xf32>
  %b = ktensor.reshape %x : (tensor<2x8xf32>) -> tensor<16xf32>
  %dead = ktensor.activation "relu" %x : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %s = ktensor.elementwise "add" %a, %b {activation = "none"} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  func.return %s : tensor<16xf32>
}
