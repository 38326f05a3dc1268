// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Materialised broadcasting: one DRAM-to-DRAM DMA whose source repeats with stride 0.

func.func @main(%x: tensor<3x1x5xf32> {kaena.name = "x"}) -> (tensor<2x3x4x5xf32> {kaena.name = "y"}) {
  %r = ktensor.reshape %x : (tensor<3x1x5xf32>) -> tensor<1x3x1x5xf32>
  %y = ktensor.broadcast %r : (tensor<1x3x1x5xf32>) -> tensor<2x3x4x5xf32>
  func.return %y : tensor<2x3x4x5xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<3x1x5xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x3x4x5xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 2, pstride = 60, off = 0, dims = [[3, 20], [4, 5], [5, 1]]>, %x <p = 0, n = 2, off = 0, dims = [[3, 5], [4, 0], [5, 1]]> : !inf.dram<2x3x4x5xf32>, !inf.dram<3x1x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
