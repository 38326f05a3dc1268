// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// An op that cannot be lowered is named by its framework node (kaena.source) in the error.

func.func @main(%x: tensor<1x3x4x200000xf32> {kaena.name = "x"}) -> (tensor<1x8x2x199998xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<8x3x3x3xf32>
  %y = ktensor.conv2d %x, %w {kaena.source = ["conv1"], strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x4x200000xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x2x199998xf32>
  func.return %y : tensor<1x8x2x199998xf32>
}

// CHECK: kaena-opt: error: cannot lower node 'conv1' ('ktensor.conv2d' ([1, 3, 4, 200000], [8, 3, 3, 3] -> [1, 8, 2, 199998])): one output row of 199998 columns
// CHECK-NOT: Traceback
