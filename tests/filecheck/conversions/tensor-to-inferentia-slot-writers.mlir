// RUN: kaena-opt %s -p ktensor-plan-fused-inputs | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// SSD's heads (kaena.plan.slot_writers): each conv whose NHWC result a concat reads through
// its transpose writes its slot on its PSUM drain. Scores: per band, 128 pixels at a time
// transposed on the vector engine (pixels on partitions, a pixel's 2 rows of 3 classes along
// the free dim), the softmax done there and stored into the softmax's result (the remainder
// pixels on fewer partitions); boxes: the drained tile stored with the channel stride 1 and
// the pixel stride 4. No concat, no softmax pass, no head result in DRAM.

func.func @main(%x: tensor<1x8x12x12xbf16> {kaena.name = "x"}, %x2: tensor<1x8x4x4xbf16> {kaena.name = "x2"}) -> (tensor<1x320x3xf32> {kaena.name = "s"}, tensor<1x160x4xf32> {kaena.name = "b"}) {
  %w0 = ktensor.weight "h0.w" : tensor<6x8x3x3xbf16>
  %b0 = ktensor.weight "h0.b" : tensor<6xf32>
  %h0 = ktensor.conv2d %x, %w0 bias %b0 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x12x12xbf16>, tensor<6x8x3x3xbf16>, tensor<6xf32>) -> tensor<1x6x12x12xf32>
  %t0 = ktensor.transpose %h0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x12x12xf32>) -> tensor<1x12x12x6xf32>
  %f0 = ktensor.reshape %t0 : (tensor<1x12x12x6xf32>) -> tensor<1x288x3xf32>
  %w1 = ktensor.weight "h1.w" : tensor<6x8x3x3xbf16>
  %h1 = ktensor.conv2d %x2, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x4x4xbf16>, tensor<6x8x3x3xbf16>) -> tensor<1x6x4x4xf32>
  %t1 = ktensor.transpose %h1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x4x4xf32>) -> tensor<1x4x4x6xf32>
  %f1 = ktensor.reshape %t1 : (tensor<1x4x4x6xf32>) -> tensor<1x32x3xf32>
  %y = ktensor.concat %f0, %f1 {axis = 1 : i64} : (tensor<1x288x3xf32>, tensor<1x32x3xf32>) -> tensor<1x320x3xf32>
  %s = ktensor.softmax %y {axis = 2 : i64} : (tensor<1x320x3xf32>) -> tensor<1x320x3xf32>
  %wb0 = ktensor.weight "b0.w" : tensor<4x8x3x3xbf16>
  %hb0 = ktensor.conv2d %x, %wb0 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x12x12xbf16>, tensor<4x8x3x3xbf16>) -> tensor<1x4x12x12xf32>
  %tb0 = ktensor.transpose %hb0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x12x12xf32>) -> tensor<1x12x12x4xf32>
  %fb0 = ktensor.reshape %tb0 : (tensor<1x12x12x4xf32>) -> tensor<1x144x4xf32>
  %wb1 = ktensor.weight "b1.w" : tensor<4x8x3x3xbf16>
  %hb1 = ktensor.conv2d %x2, %wb1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x4x4xbf16>, tensor<4x8x3x3xbf16>) -> tensor<1x4x4x4xf32>
  %tb1 = ktensor.transpose %hb1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %fb1 = ktensor.reshape %tb1 : (tensor<1x4x4x4xf32>) -> tensor<1x16x4xf32>
  %b = ktensor.concat %fb0, %fb1 {axis = 1 : i64} : (tensor<1x144x4xf32>, tensor<1x16x4xf32>) -> tensor<1x160x4xf32>
  func.return %s, %b : tensor<1x320x3xf32>, tensor<1x160x4xf32>
}

// PLAN: ktensor.concat %f0, %f1 {kaena.plan.fuse_transposes, axis = 1 : i64}
// PLAN: ktensor.softmax %y {kaena.plan.fuse_input, kaena.plan.slot_writers, axis = 2 : i64}
// PLAN: ktensor.concat %fb0, %fb1 {kaena.plan.fuse_transposes, kaena.plan.slot_writers, axis = 1 : i64}

// CHECK:      %rows_t = inf.alloc : !inf.sbuf<128x6xf32>
// CHECK:      inf.transpose %rows_t <p = 0, n = 128, off = 0, dims = [[6, 1]]>, %o_t <p = 0, n = 6, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 128, off = 0, dims = [[2, 1]]>, %rows_t <p = 0, n = 128, off = 0, dims = [[2, 3], [3, 1]]> {axes = 1 : i64}
// CHECK:      inf.dma %s <p = 0, n = 128, pstride = 6, off = 0, dims = [[6, 1]]>, %rows_t <p = 0, n = 128, off = 0, dims = [[6, 1]]>
// CHECK-NEXT: inf.transpose %rows_t <p = 0, n = 16, off = 0, dims = [[6, 1]]>, %o_t <p = 0, n = 6, off = 128, dims = [[16, 1]]>
// CHECK:      inf.dma %s <p = 0, n = 16, pstride = 6, off = 768, dims = [[6, 1]]>, %rows_t <p = 0, n = 16, off = 0, dims = [[6, 1]]>
// CHECK:      inf.transpose %rows_t_1 <p = 0, n = 16, off = 0, dims = [[6, 1]]>, %o_t_1 <p = 0, n = 6, off = 0, dims = [[16, 1]]>
// CHECK:      inf.dma %s <p = 0, n = 16, pstride = 6, off = 864, dims = [[6, 1]]>, %rows_t_1 <p = 0, n = 16, off = 0, dims = [[6, 1]]>
// CHECK:      inf.dma %b <p = 0, n = 4, pstride = 1, off = 0, dims = [[144, 4]]>, %o_t_2 <p = 0, n = 4, off = 0, dims = [[144, 1]]>
// CHECK:      inf.dma %b <p = 0, n = 4, pstride = 1, off = 576, dims = [[16, 4]]>, %o_t_3 <p = 0, n = 4, off = 0, dims = [[16, 1]]>
// CHECK-NOT:  inf.dma
// CHECK-NOT:  "tmp"
