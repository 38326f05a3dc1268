// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Pooling: (n, c) planes on partitions (200 = 2 x 100), windows as a 4-dim access pattern reduced
// over its last two dims; max pads with -inf (filled once, before the loop: one band covers the
// image), average scales by 1 / (KH * KW).

func.func @main(%x: tensor<1x200x6x6xf32> {kaena.name = "x"}) -> (tensor<1x200x3x3xf32> {kaena.name = "y"}, tensor<1x200x1x1xf32> {kaena.name = "z"}) {
  %y = ktensor.pool2d "max" %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x200x6x6xf32>) -> tensor<1x200x3x3xf32>
  %z = ktensor.pool2d "avg" %x {kernel = array<i64: 6, 6>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x200x6x6xf32>) -> tensor<1x200x1x1xf32>
  func.return %y, %z : tensor<1x200x3x3xf32>, tensor<1x200x1x1xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x200x6x6xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x200x3x3xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<1x200x1x1xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<100x56xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<100x9xf32>
// CHECK-NEXT: inf.memset %x_t <p = 0, n = 100, off = 0, dims = [[56, 1]]> {value = 0xff800000 : f32} : !inf.sbuf<100x56xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 100, off = 9, dims = [[6, 8], [6, 1]]>, %x <p = 0, n = 100, pstride = 36, off = 3600*d0, dims = [[36, 1]]> : !inf.sbuf<100x56xf32>, !inf.dram<1x200x6x6xf32>
// CHECK-NEXT: inf.reduce "max" %o_t <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %x_t <p = 0, n = 100, off = 0, dims = [[3, 16], [3, 2], [3, 8], [3, 1]]> {axes = 2 : i64} : !inf.sbuf<100x9xf32>, !inf.sbuf<100x56xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 100, pstride = 9, off = 900*d0, dims = [[9, 1]]>, %o_t <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.dram<1x200x3x3xf32>, !inf.sbuf<100x9xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %x_t_1 = inf.alloc : !inf.sbuf<100x36xf32>
// CHECK-NEXT: %o_t_1 = inf.alloc : !inf.sbuf<100x1xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t_1 <p = 0, n = 100, off = 0, dims = [[6, 6], [6, 1]]>, %x <p = 0, n = 100, pstride = 36, off = 3600*d0, dims = [[36, 1]]> : !inf.sbuf<100x36xf32>, !inf.dram<1x200x6x6xf32>
// CHECK-NEXT: inf.reduce "add" %o_t_1 <p = 0, n = 100, off = 0, dims = [[1, 1]]>, %x_t_1 <p = 0, n = 100, off = 0, dims = [[1, 6], [1, 1], [6, 6], [6, 1]]> {axes = 2 : i64, scale = 0.027777778 : f32} : !inf.sbuf<100x1xf32>, !inf.sbuf<100x36xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 100, pstride = 1, off = 100*d0, dims = [[1, 1]]>, %o_t_1 <p = 0, n = 100, off = 0, dims = [[1, 1]]> : !inf.dram<1x200x1x1xf32>, !inf.sbuf<100x1xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
