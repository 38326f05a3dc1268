// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A 1x1 conv writing a resident result of 96 channels (one partition tile): its PSUM tiles must
// land on aligned partitions (multiples of 32) of the result tile. 96 is no multiple of the PE
// array's 64 columns, so the tiles are 64 + 32 channels (partitions 0 and 64), not 3 x 32: two
// matmuls, two drains and two clamps per moving tile instead of three
// (kaena.target.tiling.conv_tiling).

func.func @main(%x: tensor<1x16x8x8xbf16> {kaena.name = "x"}) -> (tensor<1x8x8x8xf32> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<96x16x1x1xbf16>
  %w2 = ktensor.weight "w2" : tensor<8x96x1x1xbf16>
  %c1 = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu6"} : (tensor<1x16x8x8xbf16>, tensor<96x16x1x1xbf16>) -> tensor<1x96x8x8xf32>
  %c1b = ktensor.cast %c1 : (tensor<1x96x8x8xf32>) -> tensor<1x96x8x8xbf16>
  %y = ktensor.conv2d %c1b, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x96x8x8xbf16>, tensor<8x96x1x1xbf16>) -> tensor<1x8x8x8xf32>
  func.return %y : tensor<1x8x8x8xf32>
}

// CHECK:      %c1b_sb = inf.alloc {kaena.resident} : !inf.sbuf<96x64xbf16>
// CHECK:      %ps = inf.alloc : !inf.psum<64x64xf32>
// CHECK:      inf.matmul %ps <p = 0, n = 64,
// CHECK-NEXT: inf.activation "relu" %c1b_sb <p = 0, n = 64,
// CHECK-NEXT: inf.tensor_scalar "min" %c1b_sb <p = 0, n = 64,
// CHECK:      inf.matmul %ps_1 <p = 0, n = 32,
// CHECK-NEXT: inf.activation "relu" %c1b_sb <p = 64, n = 32,
// CHECK-NEXT: inf.tensor_scalar "min" %c1b_sb <p = 64, n = 32,
// CHECK-NOT:  inf.matmul %ps{{(_1)?}} <
// CHECK:      inf.matmul %ps_2 <p = 0, n = 8, {{.*}}, %c1b_sb <p = 0, n = 96,
