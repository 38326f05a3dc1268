// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// An image plane that cannot fit in an SBUF partition is a CompileError, not a crash.

func.func @main(%x: tensor<1x1x300x300xf32> {kaena.name = "x"}) -> (tensor<1x1x150x150xf32> {kaena.name = "y"}) {
  %y = ktensor.pool2d "max" %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x1x300x300xf32>) -> tensor<1x1x150x150xf32>
  func.return %y : tensor<1x1x150x150xf32>
}

// CHECK: kaena-opt: error: cannot lower 'ktensor.pool2d' ([1, 1, 300, 300] -> [1, 1, 150, 150]): a 300x300 input plane and its 150x150 result need 450000 bytes per SBUF partition
// CHECK-NOT: Traceback
