// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A BF16 depthwise conv on the PE array over 3 channel tiles of 128 builds each tile's diagonal
// stationaries one tile ahead: tile 0's before the channel-tile loop, tile ct + 1's at the start of
// tile ct's iteration (before its matmuls), the last tile peeled after the loop with nothing left to
// build, so the vector engine prepares the next tile while the PE array runs this one.

func.func @main(%x: tensor<1x384x8x8xbf16> {kaena.name = "x"}) -> (tensor<1x384x8x8xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<384x1x3x3xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 384 : i64, activation = "relu"} : (tensor<1x384x8x8xbf16>, tensor<384x1x3x3xbf16>) -> tensor<1x384x8x8xf32>
  func.return %y : tensor<1x384x8x8xf32>
}

// CHECK:      inf.tensor_tensor "mul" %w_diag <p = 0, n = 128, off = 0, dims = {{\[\[}}9, 64], [64, 1]]>, %eye {{.*}}, %w_col <p = 0, n = 128, off = 0, dims = {{\[\[}}9, 1], [64, 0]]>
// CHECK-NOT:  inf.matmul
// CHECK:      inf.loop 2 {
// CHECK-NEXT: inf.tensor_tensor "mul" %w_diag <p = 0, n = 128, off = 576 + 576*d0, dims = {{\[\[}}9, 64], [64, 1]]>, %eye {{.*}}, %w_col <p = 0, n = 128, off = 9 + 9*d0, dims = {{\[\[}}9, 1], [64, 0]]>
// CHECK:      inf.matmul
// CHECK-NOT:  inf.tensor_tensor "mul" %w_diag
// CHECK:      inf.load_stationary %w_diag <p = 0, n = 64, off = 1152, dims
