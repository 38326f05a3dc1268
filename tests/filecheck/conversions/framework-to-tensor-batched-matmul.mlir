// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// Both operands batched (attention's Q @ K^T and P @ V): one ktensor.batch_matmul.
// CHECK-LABEL: func.func @batched
// CHECK-NEXT:    %{{.*}} = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
// CHECK-NEXT:    func.return
func.func @batched(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %m = fw.matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  func.return %m : tensor<2x3x5xf32>
}

// 4-D attention scores [B, heads, S, d] x [B, heads, d, S].
// CHECK-LABEL: func.func @attention
// CHECK-NEXT:    %{{.*}} = ktensor.batch_matmul %q, %k {{.*}} : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
func.func @attention(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32> {
  %m = fw.matmul %q, %k : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  func.return %m : tensor<1x2x8x8xf32>
}

// Broadcast batch dims: the size-1 and missing ones are materialised first.
// CHECK-LABEL: func.func @broadcast
// CHECK-NEXT:    %{{.*}} = ktensor.reshape %a : (tensor<3x4xf32>) -> tensor<1x1x3x4xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.broadcast %{{.*}} : (tensor<1x1x3x4xf32>) -> tensor<2x1x3x4xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.batch_matmul %{{.*}}, %b {{.*}} -> tensor<2x1x3x5xf32>
func.func @broadcast(%a: tensor<3x4xf32>, %b: tensor<2x1x4x5xf32>) -> tensor<2x1x3x5xf32> {
  %m = fw.matmul %a, %b : (tensor<3x4xf32>, tensor<2x1x4x5xf32>) -> tensor<2x1x3x5xf32>
  func.return %m : tensor<2x1x3x5xf32>
}

// A 3-D activation by a 2-D weight (Linear layers): one 2-D matmul on [B*S, H].
// CHECK-LABEL: func.func @linear
// CHECK-NEXT:    %{{.*}} = ktensor.weight "w" : tensor<16x32xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape %x : (tensor<2x8x16xf32>) -> tensor<16x16xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.matmul {{.*}} -> tensor<16x32xf32>
// CHECK-NEXT:    %{{.*}} = ktensor.reshape {{.*}} -> tensor<2x8x32xf32>
func.func @linear(%x: tensor<2x8x16xf32>) -> tensor<2x8x32xf32> {
  %w = fw.weight "w" : tensor<16x32xf32>
  %m = fw.matmul %x, %w : (tensor<2x8x16xf32>, tensor<16x32xf32>) -> tensor<2x8x32xf32>
  func.return %m : tensor<2x8x32xf32>
}
