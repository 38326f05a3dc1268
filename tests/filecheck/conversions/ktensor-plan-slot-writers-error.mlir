// RUN: not kaena-opt %s -p ktensor-plan-fused-inputs 2>&1 | filecheck %s
// A hand-written kaena.plan.slot_writers is checked: the concat's first operand is a model
// input, not a conv that could write its slot.

func.func @main(%h0: tensor<1x6x4x5xf32> {kaena.name = "h0"}, %p: tensor<1x3x3xf32> {kaena.name = "p"}) -> (tensor<1x43x3xf32> {kaena.name = "y"}) {
  %t0 = ktensor.transpose %h0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x4x5xf32>) -> tensor<1x4x5x6xf32>
  %f0 = ktensor.reshape %t0 : (tensor<1x4x5x6xf32>) -> tensor<1x40x3xf32>
  %y = ktensor.concat %p, %f0 {kaena.plan.slot_writers, axis = 1 : i64} : (tensor<1x3x3xf32>, tensor<1x40x3xf32>) -> tensor<1x43x3xf32>
  func.return %y : tensor<1x43x3xf32>
}

// CHECK: kaena.plan.slot_writers needs a concat (or the softmax reading it) whose operands' producers can all write their slots
