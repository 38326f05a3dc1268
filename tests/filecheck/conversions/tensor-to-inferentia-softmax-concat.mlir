// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// SSD's scores: a softmax over the concat of transposed NCHW heads and a plain operand reads
// the operands itself (kaena.plan.fuse_input; the concat's kaena.plan.fuse_transposes says how):
// per head, partitions x k pixels per DMA (the pixel's channels, rows x classes, strided by the
// plane), the plain operand row after row; the results stored contiguously into each slot.

func.func @main(%h0: tensor<1x6x16x20xf32> {kaena.name = "h0"}, %p: tensor<1x3x3xf32> {kaena.name = "p"}, %h1: tensor<1x6x2x2xf32> {kaena.name = "h1"}) -> (tensor<1x651x3xf32> {kaena.name = "s"}) {
  %t0 = ktensor.transpose %h0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x16x20xf32>) -> tensor<1x16x20x6xf32>
  %f0 = ktensor.reshape %t0 : (tensor<1x16x20x6xf32>) -> tensor<1x640x3xf32>
  %t1 = ktensor.transpose %h1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x2x2xf32>) -> tensor<1x2x2x6xf32>
  %f1 = ktensor.reshape %t1 : (tensor<1x2x2x6xf32>) -> tensor<1x8x3xf32>
  %y = ktensor.concat %f0, %p, %f1 {axis = 1 : i64} : (tensor<1x640x3xf32>, tensor<1x3x3xf32>, tensor<1x8x3xf32>) -> tensor<1x651x3xf32>
  %s = ktensor.softmax %y {axis = 2 : i64} : (tensor<1x651x3xf32>) -> tensor<1x651x3xf32>
  func.return %s : tensor<1x651x3xf32>
}

// PLAN: ktensor.concat %f0, %p, %f1 {kaena.plan.fuse_transposes, axis = 1 : i64}
// PLAN: ktensor.softmax %y {kaena.plan.fuse_input, kaena.plan.row_group = 5 : i64, axis = 2 : i64}

// CHECK:      %x_t = inf.alloc : !inf.sbuf<128x12xf32>
// CHECK:      inf.dma %x_t <p = 0, n = 128, off = 0, dims = [[12, 1]]>, %h0 <p = 0, n = 128, pstride = 2, off = 0, dims = [[2, 1], [6, 320]]>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 128, off = 0, dims = [[4, 1]]>, %x_t <p = 0, n = 128, off = 0, dims = [[4, 3], [3, 1]]> {axes = 1 : i64}
// CHECK:      inf.dma %s <p = 0, n = 128, pstride = 12, off = 0, dims = [[12, 1]]>, %y_t <p = 0, n = 128, off = 0, dims = [[12, 1]]>
// CHECK:      inf.dma %x_t <p = 0, n = 64, off = 0, dims = [[6, 1]]>, %h0 <p = 0, n = 64, pstride = 1, off = 256, dims = [[6, 320]]>
// CHECK:      inf.dma %s <p = 0, n = 64, pstride = 6, off = 1536, dims = [[6, 1]]>, %y_t <p = 0, n = 64, off = 0, dims = [[6, 1]]>
// CHECK:      inf.dma %x_t <p = 0, n = 3, off = 0, dims = [[3, 1]]>, %p <p = 0, n = 3, pstride = 3, off = 0, dims = [[3, 1]]>
// CHECK:      inf.dma %s <p = 0, n = 3, pstride = 3, off = 1920, dims = [[3, 1]]>, %y_t <p = 0, n = 3, off = 0, dims = [[3, 1]]>
// CHECK:      inf.dma %x_t <p = 0, n = 4, off = 0, dims = [[6, 1]]>, %h1 <p = 0, n = 4, pstride = 1, off = 0, dims = [[6, 4]]>
// CHECK:      inf.dma %s <p = 0, n = 4, pstride = 6, off = 1929, dims = [[6, 1]]>, %y_t <p = 0, n = 4, off = 0, dims = [[6, 1]]>
// CHECK-NOT:  inf.dma
