// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=2}' --split-input-file | filecheck %s

// A stage pins its weights within its SBUF less its working set: the activations its largest
// op holds beside the weights, a partition's share (tiling.pinned_weight_budget, the budget
// ktensor-plan-matmul-streams pins within when the stage is lowered). The two [768, 3072] BF16
// weights take 36864 bytes a partition each, 73728 together. Beside %t's tanh on a
// [128, 2048] FP32 value (8192 bytes a partition in, 8192 out: 16384) they fit one core's
// 98304, so one core holds every weight (cores_to_hold_weights = 1).
// CHECK: cores_to_hold_weights = 1 : i64

builtin.module attributes {kaena.target = "inf1"} {
func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %z: tensor<128x2048xf32> {kaena.name = "z"}) -> (tensor<128x768xf32> {kaena.name = "y"}, tensor<128x2048xf32> {kaena.name = "t"}) {
  %w1 = ktensor.weight "w1" : tensor<768x3072xbf16>
  %w2 = ktensor.weight "w2" : tensor<3072x768xbf16>
  %h = ktensor.matmul %x, %w1 {activation = "relu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>) -> tensor<128x3072xf32>
  %t = ktensor.activation "tanh" %z : (tensor<128x2048xf32>) -> tensor<128x2048xf32>
  %hc = ktensor.cast %h : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  %y = ktensor.matmul %hc, %w2 {activation = "none"} : (tensor<128x3072xbf16>, tensor<3072x768xbf16>) -> tensor<128x768xf32>
  func.return %y, %t : tensor<128x768xf32>, tensor<128x2048xf32>
}
}

// -----

// The same beside a tanh on a [128, 4096] value (16384 bytes a partition in, 16384 out:
// 32768): 65536 bytes a partition are left for weights, so each weight needs a stage of
// its own (cores_to_hold_weights = 2).
// CHECK: cores_to_hold_weights = 2 : i64

builtin.module attributes {kaena.target = "inf1"} {
func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %z: tensor<128x4096xf32> {kaena.name = "z"}) -> (tensor<128x768xf32> {kaena.name = "y"}, tensor<128x4096xf32> {kaena.name = "t"}) {
  %w1 = ktensor.weight "w1" : tensor<768x3072xbf16>
  %w2 = ktensor.weight "w2" : tensor<3072x768xbf16>
  %h = ktensor.matmul %x, %w1 {activation = "relu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>) -> tensor<128x3072xf32>
  %t = ktensor.activation "tanh" %z : (tensor<128x4096xf32>) -> tensor<128x4096xf32>
  %hc = ktensor.cast %h : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  %y = ktensor.matmul %hc, %w2 {activation = "none"} : (tensor<128x3072xbf16>, tensor<3072x768xbf16>) -> tensor<128x768xf32>
  func.return %y, %t : tensor<128x768xf32>, tensor<128x4096xf32>
}
}
