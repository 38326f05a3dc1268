// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s
// fw.logical is ktensor.logical; an integer max/min is a comparison and a select
// (the engines write int32 only by moving it); a negative-step slice keeps its strides.

func.func @main(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %x: tensor<2x3xi32>, %y: tensor<3xi32>, %f: tensor<2x3xf32>) -> (tensor<2x3xi1>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x2xf32>) {
  %xor = fw.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %max = fw.max %x, %y : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %min = fw.min %x, %y : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %rev = fw.slice %f {starts = array<i64: 1, 2>, sizes = array<i64: 2, 2>, steps = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return %xor, %max, %min, %rev : tensor<2x3xi1>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x2xf32>
}

// CHECK:      %xor = ktensor.logical "xor" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT: %max = ktensor.compare "greater" %x, %y : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi1>
// CHECK-NEXT: %max_1 = ktensor.select %max, %x, %y : (tensor<2x3xi1>, tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT: %min = ktensor.compare "less" %x, %y : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi1>
// CHECK-NEXT: %min_1 = ktensor.select %min, %x, %y : (tensor<2x3xi1>, tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT: %rev = ktensor.slice %f {offsets = array<i64: 1, 2>, strides = array<i64: -1, -2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
