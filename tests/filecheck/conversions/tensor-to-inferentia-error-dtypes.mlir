// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// The tensor engine needs both matmul operands in one dtype (DMA never converts).

func.func @main(%x: tensor<2x8xf32> {kaena.name = "x"}) -> (tensor<2x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<8x4xbf16>
  %y = ktensor.matmul %x, %w {activation = "none"} : (tensor<2x8xf32>, tensor<8x4xbf16>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// CHECK: kaena-opt: error: cannot lower 'ktensor.matmul' ([2, 8], [8, 4] -> [2, 4]): operands have different element types (f32 and bf16); run auto-cast so both are the same
// CHECK-NOT: Traceback
