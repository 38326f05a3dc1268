// RUN: not kaena-opt %s -p convert-framework-to-tensor 2>&1 | filecheck %s

// A ceil_mode that changes the pooled shape is rejected in one line naming the op.

// CHECK: kaena-opt: error: fw.max_pool '%p': ceil_mode=1 changes the output from (3, 3) to (4, 4), which is not supported yet; export with ceil_mode=0
// CHECK-NOT: Traceback
func.func @ceil(%x: tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32> {
  %p = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  func.return %p : tensor<1x2x4x4xf32>
}
