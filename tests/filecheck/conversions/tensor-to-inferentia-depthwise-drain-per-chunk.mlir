// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A BF16 depthwise conv on the PE array accumulating a group of 3 row chunks (PSUM banks) per
// stationary load: its 9 taps are unrolled and each chunk is drained by the scalar engine right
// after the last tap's matmul into it (in the same chunk loop), not after the whole tap loop nest:
// the semaphores order sibling items, so the drain of chunk i overlaps the last tap's matmuls of
// the chunks after it.

func.func @main(%x: tensor<1x32x40x40xbf16> {kaena.name = "x"}) -> (tensor<1x32x40x40xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<32x1x3x3xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu"} : (tensor<1x32x40x40xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x40x40xf32>
  func.return %y : tensor<1x32x40x40xf32>
}

// CHECK:      inf.load_stationary %w_diag <p = 0, n = 32, off = 0,
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 32, off = 256*d1, dims = {{\[\[}}240, 1]]>, %x_t <p = 0, n = 32, off = 756*d0 + 252*d1,
// CHECK-NOT:  inf.activation
// CHECK:      inf.load_stationary %w_diag <p = 0, n = 32, off = 512,
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 32, off = 256*d1, {{.*}} {accumulate = #inf.expr<8>}
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 32, off = 720*d0 + 240*d1, dims = {{\[\[}}6, 40], [40, 1]]>, %ps <p = 0, n = 32, off = 256*d1,
// CHECK-NEXT: }
