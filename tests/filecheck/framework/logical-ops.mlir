// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// fw.logical (ONNX And/Or/Xor on bool masks, broadcasting) and a slice with
// negative steps print and parse back, in pretty and generic form.

// CHECK:      func.func @main(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %x: tensor<2x3xf32>)
// CHECK-NEXT: %and = fw.logical "and" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %or = fw.logical "or" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %xor = fw.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %rev = fw.slice %x {starts = array<i64: 1, 2>, sizes = array<i64: 2, 2>, steps = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
func.func @main(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %x: tensor<2x3xf32>) -> (tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x2xf32>) {
  %and = fw.logical "and" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %or = fw.logical "or" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %xor = fw.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %rev = fw.slice %x {starts = array<i64: 1, 2>, sizes = array<i64: 2, 2>, steps = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return %and, %or, %xor, %rev : tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x2xf32>
}
