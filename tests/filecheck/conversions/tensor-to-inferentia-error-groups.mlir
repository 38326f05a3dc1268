// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// Grouped convolutions are not lowered yet: a one-line CompileError naming the op and shapes.

func.func @main(%x: tensor<1x4x8x8xf32> {kaena.name = "x"}) -> (tensor<1x4x6x6xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<4x1x3x3xf32>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 4 : i64, activation = "none"} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return %y : tensor<1x4x6x6xf32>
}

// CHECK: kaena-opt: error: cannot lower 'ktensor.conv2d' ([1, 4, 8, 8], [4, 1, 3, 3] -> [1, 4, 6, 6]): groups = 4 is not supported yet (only groups = 1)
// CHECK-NOT: Traceback
