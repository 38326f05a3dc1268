// RUN: not kaena-opt %s -p convert-framework-to-tensor 2>&1 | filecheck %s

// A matmul whose right operand has real batch dims is not supported yet.

// CHECK: kaena-opt: error: fw.matmul '%m': matmul with a batched right operand (2, 4, 5) is not supported yet; rewrite the model so the right operand is 2-D
// CHECK-NOT: Traceback
func.func @batched(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %m = fw.matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  func.return %m : tensor<2x3x5xf32>
}
