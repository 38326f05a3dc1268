// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// fw.logical's checks and the slice's step rules; each must be rejected with its message.

// CHECK: 'fw.logical' kind must be one of and, or, xor, got 'nand'
func.func @f(%a: tensor<3xi1>, %b: tensor<3xi1>) {
  %0 = fw.logical "nand" %a, %b : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.logical' operands and result must be i1
func.func @f(%a: tensor<3xf32>, %b: tensor<3xf32>) {
  %0 = fw.logical "and" %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.logical' result shape must be (2, 3), got (3,)
func.func @f(%a: tensor<2x3xi1>, %b: tensor<3xi1>) {
  %0 = fw.logical "or" %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<3xi1>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.slice' slice (start 0, size 2, step 0) is out of a dim of 3
func.func @f(%a: tensor<3xf32>) {
  %0 = fw.slice %a {starts = array<i64: 0>, sizes = array<i64: 2>, steps = array<i64: 0>} : (tensor<3xf32>) -> tensor<2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.slice' slice (start 1, size 3, step -1) is out of a dim of 3
func.func @f(%a: tensor<3xf32>) {
  %0 = fw.slice %a {starts = array<i64: 1>, sizes = array<i64: 3>, steps = array<i64: -1>} : (tensor<3xf32>) -> tensor<3xf32>
  func.return
}
