// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Pad: constant mode fills the result from one memset SBUF element (a stride-0 DMA source) then
// copies the interior; reflect copies border slices dim by dim from the already-written result.

func.func @main(%x: tensor<1x2x4x5xf32> {kaena.name = "x"}) -> (tensor<1x2x7x6xf32> {kaena.name = "y"}, tensor<1x2x6x8xf32> {kaena.name = "z"}) {
  %y = ktensor.pad "constant" %x {pads = array<i64: 0, 0, 2, 1, 0, 0, 1, 0>, value = 0.5 : f32} : (tensor<1x2x4x5xf32>) -> tensor<1x2x7x6xf32>
  %z = ktensor.pad "reflect" %x {pads = array<i64: 0, 0, 1, 2, 0, 0, 1, 1>} : (tensor<1x2x4x5xf32>) -> tensor<1x2x6x8xf32>
  func.return %y, %z : tensor<1x2x7x6xf32>, tensor<1x2x6x8xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x2x4x5xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x2x7x6xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: %fill_t = inf.alloc : !inf.sbuf<1x1xf32>
// CHECK-NEXT: inf.memset %fill_t <p = 0, n = 1, off = 0, dims = [[1, 1]]> {value = 5.000000e-01 : f32} : !inf.sbuf<1x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 0, dims = [[84, 1]]>, %fill_t <p = 0, n = 1, off = 0, dims = [[84, 0]]> : !inf.dram<1x2x7x6xf32>, !inf.sbuf<1x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 2, pstride = 42, off = 13, dims = [[4, 6], [5, 1]]>, %x <p = 0, n = 2, pstride = 20, off = 0, dims = [[4, 5], [5, 1]]> : !inf.dram<1x2x7x6xf32>, !inf.dram<1x2x4x5xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 2, pstride = 48, off = 10, dims = [[4, 8], [5, 1]]>, %x <p = 0, n = 2, pstride = 20, off = 0, dims = [[4, 5], [5, 1]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x4x5xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 2, pstride = 48, off = 2, dims = [[5, 1]]>, %z <p = 0, n = 2, pstride = 48, off = 18, dims = [[5, 1]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 2, pstride = 48, off = 42, dims = [[5, 1]]>, %z <p = 0, n = 2, pstride = 48, off = 26, dims = [[5, 1]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 1, off = 0, dims = [[12, 8]]>, %z <p = 0, n = 1, off = 4, dims = [[12, 8]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 1, off = 1, dims = [[12, 8]]>, %z <p = 0, n = 1, off = 3, dims = [[12, 8]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 1, off = 7, dims = [[12, 8]]>, %z <p = 0, n = 1, off = 5, dims = [[12, 8]]> : !inf.dram<1x2x6x8xf32>, !inf.dram<1x2x6x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
