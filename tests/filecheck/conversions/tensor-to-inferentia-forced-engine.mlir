// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The lowering decides nothing itself: it follows the kaena.plan.* attributes. The same BF16
// depthwise conv as tensor-to-inferentia-depthwise-pe.mlir, whose engine the cost model would put on
// the PE array, carries a hand-written kaena.plan.engine = "vector": it is lowered to the vector
// engine's per-tap multiply-adds, with no matmul.

func.func @main(%x: tensor<1x4x8x8xbf16> {kaena.name = "x"}) -> (tensor<1x4x4x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<4x1x3x3xbf16>
  %y = ktensor.conv2d %x, %w {kaena.plan.engine = "vector", strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64, activation = "relu6"} : (tensor<1x4x8x8xbf16>, tensor<4x1x3x3xbf16>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// CHECK-NOT:  inf.matmul
// CHECK:      %acc = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NOT:  inf.matmul
// CHECK:      inf.tensor_scalar "mul" %acc
// CHECK:      inf.tensor_scalar "mul" %tmp
// CHECK-NEXT: inf.tensor_tensor "add" %acc
// CHECK-NOT:  inf.matmul
