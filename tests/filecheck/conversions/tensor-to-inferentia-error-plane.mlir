// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// Tall images are banded over output rows; an input row too wide for one band is a CompileError, not a crash.

func.func @main(%x: tensor<1x1x2x40000xf32> {kaena.name = "x"}) -> (tensor<1x1x1x20000xf32> {kaena.name = "y"}) {
  %y = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x1x2x40000xf32>) -> tensor<1x1x1x20000xf32>
  func.return %y : tensor<1x1x1x20000xf32>
}

// CHECK: kaena-opt: error: cannot lower 'ktensor.pool2d' ([1, 1, 2, 40000] -> [1, 1, 1, 20000]): one output row of 20000 columns (an input row band of 2 x 40000) does not fit the SBUF tiles of one operation; reduce the image width
// CHECK-NOT: Traceback
