// RUN: not kaena-opt %s -p ktensor-plan-conv-bands 2>&1 | filecheck %s
// A hand-written kaena.plan.shared_rows is checked: this conv reads a BF16 input straight from
// DRAM (no fused cast, so no staging tile to round from twice): it cannot share its rows.

func.func @main(%x: tensor<1x3x224x224xbf16> {kaena.name = "x"}) -> (tensor<1x32x112x112xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<32x3x3x3xbf16>
  %y = ktensor.conv2d %x, %w {kaena.plan.shared_rows, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<32x3x3x3xbf16>) -> tensor<1x32x112x112xf32>
  func.return %y : tensor<1x32x112x112xf32>
}

// CHECK: kaena.plan.shared_rows needs a folded conv reading DRAM that does its input cast, with a stride below its kernel height
