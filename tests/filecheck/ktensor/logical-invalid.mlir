// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// ktensor.logical's checks and the slice's stride rules; each must be rejected with its message.

// CHECK: 'ktensor.logical' kind must be one of and, or, xor, got 'nor'
func.func @f(%a: tensor<3xi1>, %b: tensor<3xi1>) {
  %0 = ktensor.logical "nor" %a, %b : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.logical' operands and result must be i1
func.func @f(%a: tensor<3xi32>, %b: tensor<3xi32>) {
  %0 = ktensor.logical "xor" %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.logical' result must be (2, 3), got (2, 1)
func.func @f(%a: tensor<2x3xi1>, %b: tensor<3xi1>) {
  %0 = ktensor.logical "and" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x1xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.slice' (offset 0, size 2, stride 0) is out of a dim of 3
func.func @f(%a: tensor<3xf32>) {
  %0 = ktensor.slice %a {offsets = array<i64: 0>, strides = array<i64: 0>} : (tensor<3xf32>) -> tensor<2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'ktensor.slice' (offset 1, size 3, stride -1) is out of a dim of 3
func.func @f(%a: tensor<3xf32>) {
  %0 = ktensor.slice %a {offsets = array<i64: 1>, strides = array<i64: -1>} : (tensor<3xf32>) -> tensor<3xf32>
  func.return
}
