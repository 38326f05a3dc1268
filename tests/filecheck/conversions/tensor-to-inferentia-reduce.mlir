// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A middle axis: the kept inner dim (10) on partitions, the outer one an inf.loop, the reduced axis a strided free dim, mean as a reduce with scale 1/6; an outer axis of a [3, 200] value: 200 kept elements in two tiles of 100 partitions.

func.func @main(%x: tensor<4x6x10xf32> {kaena.name = "x"}, %v: tensor<3x200xf32> {kaena.name = "v"}) -> (tensor<4x1x10xf32> {kaena.name = "y"}, tensor<1x200xf32> {kaena.name = "z"}) {
  %y = ktensor.reduce "mean" %x {axes = array<i64: 1>} : (tensor<4x6x10xf32>) -> tensor<4x1x10xf32>
  %z = ktensor.reduce "max" %v {axes = array<i64: 0>} : (tensor<3x200xf32>) -> tensor<1x200xf32>
  func.return %y, %z : tensor<4x1x10xf32>, tensor<1x200xf32>
}

// CHECK:      %x = inf.dram "input" "x" : !inf.dram<4x6x10xf32>
// CHECK-NEXT: %v = inf.dram "input" "v" : !inf.dram<3x200xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<4x1x10xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<1x200xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<10x6xf32>
// CHECK-NEXT: %red_t = inf.alloc : !inf.sbuf<10x1xf32>
// CHECK-NEXT: inf.loop 4 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 10, off = 0, dims = [[6, 1]]>, %x <p = 0, n = 10, pstride = 1, off = 60*d0, dims = [[6, 10]]> : !inf.sbuf<10x6xf32>, !inf.dram<4x6x10xf32>
// CHECK-NEXT: inf.reduce "add" %red_t <p = 0, n = 10, off = 0, dims = [[1, 1]]>, %x_t <p = 0, n = 10, off = 0, dims = [[6, 1]]> {axes = 1 : i64, scale = 0.166666672 : f32} : !inf.sbuf<10x1xf32>, !inf.sbuf<10x6xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 10, pstride = 1, off = 10*d0, dims = [[1, 1]]>, %red_t <p = 0, n = 10, off = 0, dims = [[1, 1]]> : !inf.dram<4x1x10xf32>, !inf.sbuf<10x1xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %x_t_1 = inf.alloc : !inf.sbuf<100x3xf32>
// CHECK-NEXT: %red_t_1 = inf.alloc : !inf.sbuf<100x1xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t_1 <p = 0, n = 100, off = 0, dims = [[3, 1]]>, %v <p = 0, n = 100, pstride = 1, off = 100*d0, dims = [[3, 200]]> : !inf.sbuf<100x3xf32>, !inf.dram<3x200xf32>
// CHECK-NEXT: inf.reduce "max" %red_t_1 <p = 0, n = 100, off = 0, dims = [[1, 1]]>, %x_t_1 <p = 0, n = 100, off = 0, dims = [[3, 1]]> {axes = 1 : i64} : !inf.sbuf<100x1xf32>, !inf.sbuf<100x3xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 100, pstride = 1, off = 100*d0, dims = [[1, 1]]>, %red_t_1 <p = 0, n = 100, off = 0, dims = [[1, 1]]> : !inf.dram<1x200xf32>, !inf.sbuf<100x1xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
