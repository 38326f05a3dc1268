// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A 224x224 first layer (7x7/2, pad 3, 3 channels): (kh, c) folded onto 21 PE rows; the image is
// processed in bands of output rows: the bands touching the top and bottom padding are peeled (zero
// fill, clipped row DMAs), the clean ones in between are one loop whose DMA offsets step with the band;
// row chunks alternate between two PSUM buffers (pairs of chunks per loop trip).

func.func @main(%x: tensor<1x3x224x224xbf16> {kaena.name = "x"}) -> (tensor<1x64x112x112xbf16> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<64x3x7x7xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<64x3x7x7xbf16>) -> tensor<1x64x112x112xbf16>
  func.return %y : tensor<1x64x112x112xbf16>
}

// CHECK: %x_t = inf.alloc : !inf.sbuf<21x11960xbf16>
// CHECK: %w_t = inf.alloc : !inf.sbuf<21x448xbf16>
// CHECK: %ps = inf.alloc : !inf.psum<64x224xf32>
// CHECK: %ps_1 = inf.alloc : !inf.psum<64x224xf32>
// CHECK: %o_t = inf.alloc : !inf.sbuf<64x5824xbf16>
// CHECK: inf.memset %x_t <p = 0, n = 21, off = 0, dims = [[11960, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 13 {
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 460 + 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 13 {
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 460 + 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
// CHECK: inf.memset %x_t <p = 0, n = 21, off = 0, dims = [[11960, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 2 {
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 460 + 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<64x224xf32>, !inf.sbuf<21x11960xbf16>
