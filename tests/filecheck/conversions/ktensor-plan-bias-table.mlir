// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', w1=np.ones((16, 8, 3, 3), np.float32), b1=np.ones(16, np.float32), w2=np.ones((80, 16, 1, 1), np.float32), b2=np.ones(80, np.float32))"
// RUN: kaena-opt %t/m.mlir -p ktensor-plan-bias-table | filecheck %s
// ktensor-plan-bias-table: two conv biases (16 and 80 outputs) cost two DMAs of their own; one DMA of a
// packed [128, 3] table (1 + 2 PSUM tiles' columns) is cheaper (the DMAs' fixed cost dominates), so both
// convs read it (kaena.plan.bias_table) and the function keeps twice its 12 bytes per partition of
// SBUF for it (kaena.plan.bias_table_bytes).

builtin.module attributes {kaena.weights = "w.npz"} {
  func.func @main(%x: tensor<1x8x6x6xf32> {kaena.name = "x"}) -> (tensor<1x80x6x6xf32> {kaena.name = "y"}) {
    %w1 = ktensor.weight "w1" : tensor<16x8x3x3xf32>
    %b1 = ktensor.weight "b1" : tensor<16xf32>
    %w2 = ktensor.weight "w2" : tensor<80x16x1x1xf32>
    %b2 = ktensor.weight "b2" : tensor<80xf32>
    %a = ktensor.conv2d %x, %w1 bias %b1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x6x6xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x6x6xf32>
    %y = ktensor.conv2d %a, %w2 bias %b2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x16x6x6xf32>, tensor<80x16x1x1xf32>, tensor<80xf32>) -> tensor<1x80x6x6xf32>
    func.return %y : tensor<1x80x6x6xf32>
  }
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table"], kaena.plan.bias_table_bytes = 24 : i64}
// CHECK:      %a = ktensor.conv2d %x, %w1 bias %b1 {kaena.plan.bias_table, strides
// CHECK-NEXT: %y = ktensor.conv2d %a, %w2 bias %b2 {kaena.plan.bias_table, strides
