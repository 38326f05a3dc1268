// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', w1=np.ones((64, 8, 1, 1), np.float32), w2=np.ones((256, 64, 1, 1), np.float32), w3=np.ones((256, 64), np.float32))"
// RUN: kaena-opt %t/m.mlir -p ktensor-plan-weight-prefetch | filecheck %s
// ktensor-plan-weight-prefetch.mlir's classifier in a NeuronCore Pipeline stage (kaena.pipeline on
// the module): its weights are within the stage's pin budget (ktensor-plan-matmul-streams keeps
// them in one tile, inf-allocate-sram pins it), so they load once at model load. Their load is
// not split into K-tile DMAs ahead of the convs, which could not be pinned and would stream.

builtin.module attributes {kaena.weights = "w.npz", kaena.pipeline = {cores = 2 : i64}} {
  func.func @main(%x: tensor<1x8x4x4xf32> {kaena.name = "x"}) -> (tensor<1x64xf32> {kaena.name = "y"}) {
    %w1 = ktensor.weight "w1" : tensor<64x8x1x1xf32>
    %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x4x4xf32>, tensor<64x8x1x1xf32>) -> tensor<1x64x4x4xf32>
    %w2 = ktensor.weight "w2" : tensor<256x64x1x1xf32>
    %c = ktensor.conv2d %a, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x4x4xf32>, tensor<256x64x1x1xf32>) -> tensor<1x256x4x4xf32>
    %p = ktensor.pool2d "avg" %c {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x256x4x4xf32>) -> tensor<1x256x1x1xf32>
    %f = ktensor.reshape %p : (tensor<1x256x1x1xf32>) -> tensor<1x256xf32>
    %w3 = ktensor.weight "w3" : tensor<256x64xf32>
    %y = ktensor.matmul %f, %w3 {activation = "none"} : (tensor<1x256xf32>, tensor<256x64xf32>) -> tensor<1x64xf32>
    func.return %y : tensor<1x64xf32>
  }
}

// CHECK:      kaena.plan.done = [{{.*}}"conv-bands", "weight-prefetch"]
// CHECK:      %y = ktensor.matmul %f, %w3 {activation = "none"}
