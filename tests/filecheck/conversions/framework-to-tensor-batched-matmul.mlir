// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// A batched right operand: broadcast product [B, M, K, N], K moved last, summed
// by one matmul with a ones column, reshaped back.
// CHECK-LABEL: func.func @batched
// CHECK-NEXT:    %{{.*}} = ktensor.reshape %a : (tensor<2x3x4xf32>) -> tensor<2x3x4x1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape %b : (tensor<2x4x5xf32>) -> tensor<2x1x4x5xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.elementwise "mul" {{.*}} -> tensor<2x3x4x5xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.transpose {{.*}} {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x3x4x5xf32>) -> tensor<2x3x5x4xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape {{.*}} -> tensor<30x4xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.weight "matmul.ones.{{[0-9a-f]+}}" : tensor<4x1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.matmul {{.*}} -> tensor<30x1xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape {{.*}} -> tensor<2x3x5xf32>
func.func @batched(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %m = fw.matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  func.return %m : tensor<2x3x5xf32>
}
