// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A strided slice is one DRAM-to-DRAM DMA: the offsets in its start, the strides
// (times the steps) in its pattern.

func.func @main(%x: tensor<2x9x10xf32> {kaena.name = "x"}) -> (tensor<2x3x4xf32> {kaena.name = "y"}) {
  %y = ktensor.slice %x {offsets = array<i64: 0, 1, 1>, strides = array<i64: 1, 3, 2>} : (tensor<2x9x10xf32>) -> tensor<2x3x4xf32>
  func.return %y : tensor<2x3x4xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<2x9x10xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x3x4xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 6, pstride = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 6, pstride = 30, off = 11, dims = [[4, 2]]> : !inf.dram<2x3x4xf32>, !inf.dram<2x9x10xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
