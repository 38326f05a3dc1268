// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', w1=np.ones((64, 8, 1, 1), np.float32), w3=np.ones((256, 64), np.float32))"
// RUN: not kaena-opt %t/m.mlir -p ktensor-plan-weight-prefetch 2>&1 | filecheck %s
// A hand-written kaena.plan.weight_prefetch whose K tile counts do not sum to the matmul's K tiles
// (two of 128 rows) is refused with one line naming the op.

builtin.module attributes {kaena.weights = "w.npz"} {
  func.func @main(%x: tensor<1x8x4x4xf32> {kaena.name = "x"}, %f: tensor<1x256xf32> {kaena.name = "f"}) -> (tensor<1x64x4x4xf32> {kaena.name = "a"}, tensor<1x64xf32> {kaena.name = "y"}) {
    %w1 = ktensor.weight "w1" : tensor<64x8x1x1xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x4x4xf32>, tensor<64x8x1x1xf32>) -> tensor<1x64x4x4xf32>
    %w3 = ktensor.weight "w3" : tensor<256x64xf32>
    %y = ktensor.matmul %f, %w3 {kaena.plan.weight_prefetch = array<i64: 3>, kaena.source = ["classifier"], activation = "none"} : (tensor<1x256xf32>, tensor<256x64xf32>) -> tensor<1x64xf32>
    func.return %a, %y : tensor<1x64x4x4xf32>, tensor<1x64xf32>
  }
}

// CHECK: cannot lower node 'classifier' ('ktensor.matmul' ([1, 256], [256, 64] -> [1, 64])): kaena.plan.weight_prefetch = [3], but it needs one positive K tile count per weight-loading op ahead of it (at most 1), summing to its 2 K tiles, and weights in one tile
