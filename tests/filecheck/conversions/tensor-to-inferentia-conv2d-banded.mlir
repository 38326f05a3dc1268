// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A 224x224 first layer (7x7/2, pad 3, 3 channels): (kh, c) folded onto 21 PE rows; the image is
// processed in bands of output rows: the bands touching the top and bottom padding have a zero fill and
// clipped row DMAs; row chunks alternate between two PSUM buffers (pairs of chunks per loop trip).
// The cost model (CostModel.band_loop) picks 24-row bands in two buffers: band i + 1's DMAs are issued
// before band i computes, so the in-order DMA queue fetches it meanwhile (not after band i's result DMA).

func.func @main(%x: tensor<1x3x224x224xbf16> {kaena.name = "x"}) -> (tensor<1x64x112x112xbf16> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<64x3x7x7xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<64x3x7x7xbf16>) -> tensor<1x64x112x112xbf16>
  func.return %y : tensor<1x64x112x112xbf16>
}

// CHECK: %x_t = inf.alloc : !inf.sbuf<21x5520xbf16>
// CHECK: %x_t_1 = inf.alloc : !inf.sbuf<21x5520xbf16>
// CHECK: %w_t = inf.alloc : !inf.sbuf<21x448xbf16>
// CHECK: %ps = inf.alloc : !inf.psum<64x224xf32>
// CHECK: %ps_1 = inf.alloc : !inf.psum<64x224xf32>
// CHECK: %o_t = inf.alloc : !inf.sbuf<64x2688xbf16>
// CHECK: %o_t_1 = inf.alloc : !inf.sbuf<64x2688xbf16>
// band 0 (top padding) into x_t, then band 1 prefetched into x_t_1 before band 0 computes
// CHECK: inf.memset %x_t <p = 0, n = 21, off = 0, dims = [[5520, 1]]> {value = 0.000000e+00 : f32}
// CHECK: inf.dma %x_t <p = 0, n = 3, off = 463, dims = [[22, 230], [224, 1]]>, %x <p = 0, n = 3, pstride = 50176, off = 224, dims = [[22, 448], [224, 1]]>
// CHECK: inf.memset %x_t_1 <p = 0, n = 21, off = 0, dims = [[5520, 1]]> {value = 0.000000e+00 : f32}
// CHECK: inf.dma %x_t_1 <p = 0, n = 3, off = 3, dims = [[24, 230], [224, 1]]>, %x <p = 0, n = 3, pstride = 50176, off = 10080, dims = [[24, 448], [224, 1]]>
// CHECK: inf.loop 6 {
// CHECK: inf.loop 7 {
// CHECK: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>}
// CHECK: inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t <p = 0, n = 21, off = 460 + 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>}
// CHECK: inf.dma %y <p = 0, n = 64, pstride = 12544, off = 0, dims = [[2688, 1]]>, %o_t <p = 0, n = 64, off = 0, dims = [[2688, 1]]>
// band 2 (clean: no fill) into x_t while band 1 computes from x_t_1 into o_t_1
// CHECK-NOT: inf.memset
// CHECK: inf.dma %x_t <p = 0, n = 3, off = 3, dims = [[24, 230], [224, 1]]>, %x <p = 0, n = 3, pstride = 50176, off = 20832, dims = [[24, 448], [224, 1]]>
// CHECK: inf.loop 6 {
// CHECK: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[224, 1]]>, %x_t_1 <p = 0, n = 21, off = 920*d0 + 1*d1, dims = [[2, 230], [112, 2]]> {accumulate = #inf.expr<1*d1>}
// CHECK: inf.dma %y <p = 0, n = 64, pstride = 12544, off = 2688, dims = [[2688, 1]]>, %o_t_1 <p = 0, n = 64, off = 0, dims = [[2688, 1]]>
// the last band (16 rows, bottom padding) refills x_t
// CHECK: inf.memset %x_t <p = 0, n = 21, off = 0, dims = [[5520, 1]]>
// CHECK: inf.dma %x_t <p = 0, n = 3, off = 3, dims = [[16, 230], [224, 1]]>
// CHECK: inf.dma %y <p = 0, n = 64, pstride = 12544, off = 10752, dims = [[1792, 1]]>, %o_t <p = 0, n = 64, off = 0, dims = [[1792, 1]]>
