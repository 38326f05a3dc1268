// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A chained matmul (kaena.plan.chain, planned): the FFN's first matmul drains its out^T tiles in
// pairs (the second on PSUM partitions 64..127, GELU and bias over all 128 at once) into the SBUF
// tile the second matmul reads as its lhs^T (feature f on partition f % 128, column (f // 128) *
// 128 + row): no DRAM write of the intermediate, no lhs load in the second matmul. Both stream
// their weights in 2 blocks (kaena.plan.weight_blocks).

func.func @main(%x: tensor<128x256xbf16> {kaena.name = "x"}, %w1: tensor<256x512xbf16> {kaena.name = "w1"}, %b1: tensor<512xf32> {kaena.name = "b1"}, %w2: tensor<512x256xbf16> {kaena.name = "w2"}) -> (tensor<128x256xf32> {kaena.name = "y"}) {
  %h = ktensor.matmul %x, %w1 bias %b1 {activation = "gelu"} : (tensor<128x256xbf16>, tensor<256x512xbf16>, tensor<512xf32>) -> tensor<128x512xf32>
  %hb = ktensor.cast %h : (tensor<128x512xf32>) -> tensor<128x512xbf16>
  %y = ktensor.matmul %hb, %w2 {activation = "none"} : (tensor<128x512xbf16>, tensor<512x256xbf16>) -> tensor<128x256xf32>
  func.return %y : tensor<128x256xf32>
}

// CHECK:      %chain_t = inf.alloc : !inf.sbuf<128x512xbf16>
// CHECK:      %b_t = inf.alloc : !inf.sbuf<128x4xf32>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<128x128xf32>
// CHECK-NEXT: inf.dma %b_t <p = 0, n = 128, off = 0, dims = [[4, 1]]>, %b1 <p = 0, n = 128, pstride = 1, off = 0, dims = [[4, 128]]>
// CHECK-NEXT: inf.dma %x_t
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 128, off = 512*d0, dims = [[512, 1]]>, %w1
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 512*d0 + 128*d1 + 256*d2, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %x_t
// CHECK-NEXT: }
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 64 + 512*d0 + 128*d1 + 256*d2, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %x_t
// CHECK-NEXT: }
// CHECK-NEXT: inf.activation "gelu" %chain_t <p = 0, n = 128, off = 256*d0 + 128*d1, dims = [[128, 1]]>, %ps <p = 0, n = 128, off = 0, dims = [[128, 1]]> bias %b_t {bias_ap = #inf.ap<p = 0, n = 128, off = 2*d0 + 1*d1, dims = [[1, 1]]>}
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NOT:  inf.dma {{.*}}%chain_t
// CHECK:      inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %chain_t <p = 0, n = 128, off = 128*d2, dims = [[128, 1]]> {accumulate = #inf.expr<1*d2>}
// CHECK:      inf.dma %y <p = 0, n = 64, pstride = 1, off = 0, dims = [[4, 64], [128, 256]]>, %o_t
