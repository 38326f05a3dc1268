// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | kaena-opt | filecheck %s
// A slice with negative steps (ONNX test_slice_neg_steps) is one DMA walking the
// source backwards: negative strides and pstride from the last element's offset.

func.func @main(%x: tensor<20x10x5xf32> {kaena.name = "x"}) -> (tensor<19x3x2xf32> {kaena.name = "y"}) {
  %y = ktensor.slice %x {offsets = array<i64: 19, 9, 4>, strides = array<i64: -1, -3, -2>} : (tensor<20x10x5xf32>) -> tensor<19x3x2xf32>
  func.return %y : tensor<19x3x2xf32>
}

// CHECK:      %y = inf.dram "output" "y" : !inf.dram<19x3x2xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 19, pstride = 6, off = 0, dims = {{\[\[}}3, 2], [2, 1]]>, %x <p = 0, n = 19, pstride = -50, off = 999, dims = {{\[\[}}3, -15], [2, -2]]> : !inf.dram<19x3x2xf32>, !inf.dram<20x10x5xf32>
// CHECK-NEXT: }
