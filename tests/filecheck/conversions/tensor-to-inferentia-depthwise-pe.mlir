// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The same depthwise conv as tensor-to-inferentia-depthwise.mlir, in BF16: the cost model prices
// the PE array (diagonal stationaries, K = M = channels) below the vector engine's multiply-adds
// (which win in FP32, where the PE array runs at 1/4 rate), so the lowering picks the PE array.

func.func @main(%x: tensor<1x4x8x8xbf16> {kaena.name = "x"}) -> (tensor<1x4x4x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<4x1x3x3xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64, activation = "relu6"} : (tensor<1x4x8x8xbf16>, tensor<4x1x3x3xbf16>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// The identity (once per model): a scratch row with a one in the middle, read back with pstride -1.
// CHECK:      %[[ROW:.*]] = inf.dram "tmp" "t0" : !inf.dram<127xbf16>
// CHECK:      inf.memset %eye_row <p = 0, n = 1, off = 63, dims = {{\[\[}}1, 1]]> {value = 1.000000e+00 : f32}
// CHECK:      inf.dma %eye <p = 0, n = 64, off = 0, dims = {{\[\[}}64, 1]]>, %[[ROW]] <p = 0, n = 64, pstride = -1, off = 63, dims = {{\[\[}}64, 1]]>
// Per-partition weights times the identity: one diagonal [4 x 4] stationary per tap.
// CHECK:      inf.dma %w_col <p = 0, n = 4, off = 0, dims = {{\[\[}}9, 1]]>, %dw
// CHECK:      inf.tensor_tensor "mul" %w_diag <p = 0, n = 4, off = 0, dims = {{\[\[}}9, 64], [64, 1]]>, %eye <p = 0, n = 4, off = 0, dims = {{\[\[}}9, 0], [64, 1]]>, %w_col <p = 0, n = 4, off = 0, dims = {{\[\[}}9, 1], [64, 0]]>
// Each tap accumulates in PSUM, the taps unrolled (tap t's stationary at 64 t, its window at
// 10 kh + kw), and the scalar engine drains a row chunk with the activation right after its last
// tap's matmul.
// CHECK:      inf.load_stationary %w_diag <p = 0, n = 4, off = 0, dims = {{\[\[}}4, 1]]>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = {{\[\[}}4, 20], [4, 2]]> :
// CHECK-NEXT: inf.load_stationary %w_diag <p = 0, n = 4, off = 64,
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>, %x_t <p = 0, n = 4, off = 1, {{.*}} {accumulate = #inf.expr<1>}
// CHECK:      inf.load_stationary %w_diag <p = 0, n = 4, off = 512,
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>, %x_t <p = 0, n = 4, off = 22, {{.*}} {accumulate = #inf.expr<8>}
// CHECK-NEXT: inf.activation "relu" %o_t
// CHECK-NEXT: inf.tensor_scalar "min" %o_t
// CHECK-NOT:  inf.tensor_tensor "add"
