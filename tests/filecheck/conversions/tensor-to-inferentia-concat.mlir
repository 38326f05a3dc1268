// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Concat along channels: one DRAM-to-DRAM DMA per operand into its slice of the result.

func.func @main(%a: tensor<2x3x4x4xf32> {kaena.name = "a"}, %b: tensor<2x5x4x4xf32> {kaena.name = "b"}) -> (tensor<2x8x4x4xf32> {kaena.name = "y"}) {
  %y = ktensor.concat %a, %b {axis = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<2x5x4x4xf32>) -> tensor<2x8x4x4xf32>
  func.return %y : tensor<2x8x4x4xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %a = inf.dram "input" "a" : !inf.dram<2x3x4x4xf32>
// CHECK-NEXT: %b = inf.dram "input" "b" : !inf.dram<2x5x4x4xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x8x4x4xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 2, pstride = 128, off = 0, dims = [[48, 1]]>, %a <p = 0, n = 2, pstride = 48, off = 0, dims = [[48, 1]]> : !inf.dram<2x8x4x4xf32>, !inf.dram<2x3x4x4xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 2, pstride = 128, off = 48, dims = [[80, 1]]>, %b <p = 0, n = 2, pstride = 80, off = 0, dims = [[80, 1]]> : !inf.dram<2x8x4x4xf32>, !inf.dram<2x5x4x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
