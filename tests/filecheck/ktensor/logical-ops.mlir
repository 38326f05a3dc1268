// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// ktensor.logical (and/or/xor of i1 masks, broadcasting) and a slice with
// negative strides print and parse back, in pretty and generic form.

// CHECK:      %and = ktensor.logical "and" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %or = ktensor.logical "or" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %xor = ktensor.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %rev = ktensor.slice %x {offsets = array<i64: 1, 2>, strides = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
func.func @main(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %x: tensor<2x3xf32>) -> (tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x2xf32>) {
  %and = ktensor.logical "and" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %or = ktensor.logical "or" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %xor = ktensor.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %rev = ktensor.slice %x {offsets = array<i64: 1, 2>, strides = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return %and, %or, %xor, %rev : tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x2xf32>
}
