// RUN: not kaena-opt %s -p ktensor-plan-conv-bands 2>&1 | filecheck %s
// A hand-written kaena.plan.band_budget is checked: one output row of this folded 3x3 conv
// reads a band of 18 columns of 24 (kh, c) partitions, 72 bytes per partition in f32, more
// than the 64 bytes the budget leaves.

func.func @main(%x: tensor<1x8x16x16xf32> {kaena.name = "x"}) -> (tensor<1x8x16x16xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<8x8x3x3xf32>
  %y = ktensor.conv2d %x, %w {kaena.plan.band_budget = 64 : i64, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x16x16xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x16x16xf32>
  func.return %y : tensor<1x8x16x16xf32>
}

// CHECK: cannot lower {{.*}}'ktensor.conv2d'{{.*}}: kaena.plan.band_budget = 64 leaves no room for one output row's input band; remove it or raise it to the bytes per partition one row needs
