// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A transpose is one DRAM -> DRAM DMA with permuted strides.

func.func @main(%x: tensor<2x3x4x5xf32> {kaena.name = "x"}) -> (tensor<2x4x5x3xf32> {kaena.name = "y"}) {
  %y = ktensor.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x3x4x5xf32>) -> tensor<2x4x5x3xf32>
  func.return %y : tensor<2x4x5x3xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<2x3x4x5xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x4x5x3xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 0, dims = [[120, 1]]>, %x <p = 0, n = 2, pstride = 60, off = 0, dims = [[20, 1], [3, 20]]> : !inf.dram<2x4x5x3xf32>, !inf.dram<2x3x4x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
