// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Dilated pooling: the dilations are the strides of the window's last two dims
// ([KH, dh * Wp], [KW, dw]); the band reads (KH - 1) * dh + 1 input rows.

func.func @main(%x: tensor<1x4x7x7xf32> {kaena.name = "x"}) -> (tensor<1x4x3x4xf32> {kaena.name = "y"}) {
  %y = ktensor.pool2d "max" %x {kernel = array<i64: 3, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 3>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x3x4xf32>
  func.return %y : tensor<1x4x3x4xf32>
}

// CHECK:      inf.reduce "max" %o_t <p = 0, n = 4, off = 0, dims = [[12, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[3, 7], [4, 1], [3, 14], [2, 3]]> {axes = 2 : i64}
