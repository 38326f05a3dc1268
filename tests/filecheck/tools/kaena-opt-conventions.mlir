// kaena-opt keeps xdsl-opt's conventions.
// RUN: kaena-opt %s -p ktensor-fuse-bias-activation,auto-cast --print-between-passes | filecheck %s --check-prefix=BETWEEN
// RUN: kaena-opt %s --split-input-file | filecheck %s --check-prefix=SPLIT
// RUN: rm -rf %t && mkdir -p %t && kaena-opt %s -p ktensor-fuse-bias-activation -o %t/out.mlir
// RUN: filecheck %s --check-prefix=OUT --input-file %t/out.mlir
// RUN: not kaena-opt %s -p 'auto-cast{mode=sometimes}' -o %t/bad.mlir 2>&1 | filecheck %s --check-prefix=BADOPT
// RUN: not ls %t/bad.mlir

// BETWEEN:      IR after ktensor-fuse-bias-activation:
// BETWEEN:      ktensor.matmul %x, %w {activation = "relu"}
// BETWEEN-NOT:  ktensor.activation
// BETWEEN:      ktensor.cast

// SPLIT:        func.func @first
// SPLIT:        {{^}}// -{{-+}}
// SPLIT:        func.func @second

// OUT:          ktensor.matmul %x, %w {activation = "relu"}

// BADOPT:       kaena-opt: error: {{.*}}sometimes

func.func @first(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) -> tensor<2x4xf32> {
  %y = ktensor.matmul %x, %w {activation = "none"} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %r = ktensor.activation "relu" %y : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}

// -----

func.func @second(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  func.return %x : tensor<2x8xf32>
}
