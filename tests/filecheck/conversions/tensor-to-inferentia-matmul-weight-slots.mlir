// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A matmul with kaena.plan.weight_blocks = 8 and kaena.plan.weight_slots = 2 (as
// ktensor-plan-matmul-streams plans it in a pipeline stage): the weight tile holds two blocks
// (2 x 2304 elements a partition, not all 8), and the blocks go in pairs, a loop of 4 whose
// body loads block 2*d0 into slot 0 and block 2*d0 + 1 into slot 1, each followed by its 6
// output tiles read from that slot; block i + 2's load reuses block i's slot.

func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %w: tensor<768x3072xbf16> {kaena.name = "w"}, %b: tensor<3072xf32> {kaena.name = "b"}) -> (tensor<128x3072xbf16> {kaena.name = "y"}) {
  %y = ktensor.matmul %x, %w bias %b {kaena.plan.weight_blocks = 8 : i64, kaena.plan.weight_slots = 2 : i64, activation = "gelu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>, tensor<3072xf32>) -> tensor<128x3072xf32>
  %yb = ktensor.cast %y : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  func.return %yb : tensor<128x3072xbf16>
}

// CHECK:      %w_t = inf.alloc : !inf.sbuf<128x4608xbf16>
// CHECK:      inf.loop 4 {
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 128, off = 0, dims = [[2304, 1]]>, %w <p = 0, n = 128, pstride = 3072, off = 768*d0, dims = [[6, 393216], [384, 1]]>
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 64*d1 + 384*d2, dims = [[64, 1]]>
// CHECK:      inf.activation "gelu" %o_t <p = 0, n = 64, off = 1536*d0 + 128*d1
// CHECK:      inf.dma %w_t <p = 0, n = 128, off = 2304, dims = [[2304, 1]]>, %w <p = 0, n = 128, pstride = 3072, off = 384 + 768*d0, dims = [[6, 393216], [384, 1]]>
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 2304 + 64*d1 + 384*d2, dims = [[64, 1]]>
// CHECK:      inf.activation "gelu" %o_t <p = 0, n = 64, off = 768 + 1536*d0 + 128*d1
// CHECK:      inf.dma %y <p = 0, n = 64, pstride = 1, off = 0, dims = [[48, 64], [128, 3072]]>, %o_t <p = 0, n = 64, off = 0, dims = [[6144, 1]]>
