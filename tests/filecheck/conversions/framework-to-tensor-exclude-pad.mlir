// RUN: not kaena-opt %s -p convert-framework-to-tensor 2>&1 | filecheck %s

// Average pooling that excludes padding from the divisor is not supported yet
// (ktensor.pool2d "avg" divides by the full kernel size).

// CHECK: kaena-opt: error: fw.average_pool '%p': average pooling with pads (1, 1, 1, 1) and count_include_pad=0 is not supported yet; export with count_include_pad=1 or without padding
// CHECK-NOT: Traceback
func.func @exclude_pad(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32> {
  %p = fw.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = false} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  func.return %p : tensor<1x2x6x6xf32>
}
