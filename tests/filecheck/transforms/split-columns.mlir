// RUN: kaena-opt %s -p 'ktensor-plan-column-split{cores=4 capacity=500}' | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p 'ktensor-plan-column-split{cores=4 capacity=500},ktensor-split-columns' | filecheck %s
// RUN: kaena-opt %s -p 'ktensor-plan-column-split{cores=4 capacity=500},ktensor-split-columns,ktensor-partition-pipeline{cores=4 capacity=500}' | filecheck %s --check-prefix=STAGES
// RUN: kaena-opt %s -p 'ktensor-plan-column-split{cores=1 capacity=500}' | filecheck %s --check-prefix=ONE

// Weights: ../Inputs/frontend-weights.npz. With a 500-byte resident share per stage:
// fc.weight (6 x 32 FP32, 768 bytes) and its bias (128 bytes) take two parts of 16
// columns (448 bytes each); mm.weight (32 x 6, 768 bytes) two parts of 3 columns (fewer
// columns than the PE's 128, so no rounding to them); c.mat (96 bytes) stays whole.

// PLAN:      %h = ktensor.matmul %x, %w bias %b {kaena.pipeline.split_columns = [16 : i64, 16 : i64], activation = "relu"}
// PLAN:      %g = ktensor.matmul %h, %w2 {kaena.pipeline.split_columns = [3 : i64, 3 : i64], activation = "none"}
// PLAN:      %e = ktensor.matmul %g, %w3 {activation = "none"}

// The parts read the same input (forwarded to the next part's stage when they land on
// two), each its own columns of the weight and bias, joined along the columns.
// CHECK:      %[[W0:.*]] = ktensor.weight "fc.weight.{{[0-9a-f]+}}" : tensor<6x16xf32>
// CHECK-NEXT: %[[B0:.*]] = ktensor.weight "vec.{{[0-9a-f]+}}" : tensor<16xf32>
// CHECK-NEXT: %[[H0:.*]] = ktensor.matmul %x, %[[W0]] bias %[[B0]] {kaena.pipeline.column_part = [0 : i64, 16 : i64, 32 : i64], activation = "relu"}
// CHECK-NEXT: %[[W1:.*]] = ktensor.weight "fc.weight.{{[0-9a-f]+}}" : tensor<6x16xf32>
// CHECK-NEXT: %[[B1:.*]] = ktensor.weight "vec.{{[0-9a-f]+}}" : tensor<16xf32>
// CHECK-NEXT: %[[H1:.*]] = ktensor.matmul %x, %[[W1]] bias %[[B1]] {kaena.pipeline.column_part = [16 : i64, 16 : i64, 32 : i64], activation = "relu"}
// CHECK-NEXT: %[[H:.*]] = ktensor.concat %[[H0]], %[[H1]] {axis = 1 : i64} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x32xf32>
// CHECK:      ktensor.matmul %[[H]], %{{.*}} {kaena.pipeline.column_part = [0 : i64, 3 : i64, 6 : i64], activation = "none"}
// CHECK:      ktensor.matmul %[[H]], %{{.*}} {kaena.pipeline.column_part = [3 : i64, 3 : i64, 6 : i64], activation = "none"}
// CHECK:      %[[G:.*]] = ktensor.concat {{.*}} {axis = 1 : i64} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x6xf32>
// CHECK:      ktensor.matmul %[[G]], %w3 {activation = "none"}
// CHECK-NOT:  "fc.weight" :

// Four stages each keep their part resident (weights within 500 bytes each); one part per
// stage, each concat with the last part it joins (its 2-D result, which goes through DRAM,
// written there rather than the part sent on and concatenated by the next stage).
// STAGES: kaena.pipeline = {cores = 4 : i64, {{.*}} weight_bytes = [448 : i64, 448 : i64, 384 : i64, 480 : i64], {{.*}} cores_to_hold_weights = 4 : i64, roofline_cycles = {{[0-9]+}} : i64}
// STAGES: kaena.pipeline.column_part = [0 : i64, 16 : i64, 32 : i64], kaena.pipeline.stage = 0 : i64
// STAGES: kaena.pipeline.column_part = [16 : i64, 16 : i64, 32 : i64], kaena.pipeline.stage = 1 : i64
// STAGES: ktensor.concat {{.*}}kaena.pipeline.stage = 1 : i64
// STAGES: kaena.pipeline.column_part = [0 : i64, 3 : i64, 6 : i64], kaena.pipeline.stage = 2 : i64
// STAGES: kaena.pipeline.column_part = [3 : i64, 3 : i64, 6 : i64], kaena.pipeline.stage = 3 : i64
// STAGES: ktensor.concat {{.*}}kaena.pipeline.stage = 3 : i64

// One core: nothing to split across.
// ONE-NOT: split_columns

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz", kaena.target = "inf1"} {
func.func @main(%x: tensor<4x6xf32> {kaena.name = "x"}) -> (tensor<4x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "fc.weight" : tensor<6x32xf32>
  %b = ktensor.weight "vec" : tensor<32xf32>
  %h = ktensor.matmul %x, %w bias %b {activation = "relu"} : (tensor<4x6xf32>, tensor<6x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %w2 = ktensor.weight "mm.weight" : tensor<32x6xf32>
  %g = ktensor.matmul %h, %w2 {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
  %w3 = ktensor.weight "c.mat" : tensor<6x4xf32>
  %e = ktensor.matmul %g, %w3 {activation = "none"} : (tensor<4x6xf32>, tensor<6x4xf32>) -> tensor<4x4xf32>
  func.return %e : tensor<4x4xf32>
}
}
