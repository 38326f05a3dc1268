// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The vector engine compares int32 as FP32 (exact within 2**24): every model input
// whose values reach a comparison, directly or moved (transpose, reshape), records
// kaena.valid_range [-2**24, 2**24] for the runtime to check; float inputs do not.

func.func @main(%x: tensor<4x16xi32> {kaena.name = "x"}, %y: tensor<16xi32> {kaena.name = "y"}, %f: tensor<16x4xf32> {kaena.name = "f"}) -> (tensor<16x4xi1> {kaena.name = "m"}, tensor<16x4xi1> {kaena.name = "n"}) {
  %t = ktensor.transpose %x {perm = array<i64: 1, 0>} : (tensor<4x16xi32>) -> tensor<16x4xi32>
  %r = ktensor.reshape %y : (tensor<16xi32>) -> tensor<16x1xi32>
  %m = ktensor.compare "less" %t, %r : (tensor<16x4xi32>, tensor<16x1xi32>) -> tensor<16x4xi1>
  %n = ktensor.compare "equal" %f, %f : (tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<16x4xi1>
  func.return %m, %n : tensor<16x4xi1>, tensor<16x4xi1>
}

// CHECK:      %x = inf.dram "input" "x" {kaena.valid_range = array<i64: -16777216, 16777217>} : !inf.dram<4x16xi32>
// CHECK-NEXT: %y = inf.dram "input" "y" {kaena.valid_range = array<i64: -16777216, 16777217>} : !inf.dram<16xi32>
// CHECK-NEXT: %f = inf.dram "input" "f" : !inf.dram<16x4xf32>
// CHECK-NEXT: %m = inf.dram "output" "m" : !inf.dram<16x4xf32>
