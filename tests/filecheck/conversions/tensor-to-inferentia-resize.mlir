// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Nearest upsampling by (2, 3): one DMA whose source repeats each element with stride-0 dims.

func.func @main(%x: tensor<1x3x4x5xf32> {kaena.name = "x"}) -> (tensor<1x3x8x15xf32> {kaena.name = "y"}) {
  %y = ktensor.resize_nearest %x {scales = array<i64: 2, 3>} : (tensor<1x3x4x5xf32>) -> tensor<1x3x8x15xf32>
  func.return %y : tensor<1x3x8x15xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x3x4x5xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x3x8x15xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 12, pstride = 30, off = 0, dims = [[2, 15], [5, 3], [3, 1]]>, %x <p = 0, n = 12, pstride = 5, off = 0, dims = [[2, 0], [5, 1], [3, 0]]> : !inf.dram<1x3x8x15xf32>, !inf.dram<1x3x4x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
