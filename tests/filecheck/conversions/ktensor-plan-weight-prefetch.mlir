// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', w1=np.ones((64, 8, 1, 1), np.float32), w2=np.ones((256, 64, 1, 1), np.float32), w3=np.ones((256, 64), np.float32))"
// RUN: kaena-opt %t/m.mlir -p ktensor-plan-weight-prefetch | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %t/m.mlir -p convert-tensor-to-inferentia | filecheck %s --check-prefix=LOWER
// ktensor-plan-weight-prefetch: a classifier after a global pool would load its weights only once the
// pool's store has left the in-order DMA queue, with nothing left to overlap. Its two K tiles of 128 rows
// load ahead of it instead, one just before each of the two convs ahead of it (a K tile's DMA costs more
// than either conv's own weights: one each, the earliest taking what is left), into one weight tile that
// fits in SBUF beside what is live meanwhile; the matmul reads that tile and loads nothing itself.

builtin.module attributes {kaena.weights = "w.npz"} {
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

// PLAN:      kaena.plan.done = [{{.*}}"conv-bands", "weight-prefetch"]
// PLAN:      %y = ktensor.matmul %f, %w3 {kaena.plan.weight_prefetch = array<i64: 1, 1>, activation = "none"}

// LOWER:      %w_pre = inf.alloc : !inf.sbuf<128x128xf32>
// LOWER-NEXT: inf.dma %w_pre <p = 0, n = 128, off = 0, dims = {{\[\[}}64, 1]]>, %w3 <p = 0, n = 128, pstride = 64, off = 0, dims = {{\[\[}}64, 1]]>
// LOWER-NEXT: %a_sb = inf.alloc {kaena.resident}
// LOWER:      inf.dma %w_t {{.*}}, %w1
// LOWER:      inf.dma %w_pre <p = 0, n = 128, off = 64, dims = {{\[\[}}64, 1]]>, %w3 <p = 0, n = 128, pstride = 64, off = 8192, dims = {{\[\[}}64, 1]]>
// LOWER-NEXT: %c_sb = inf.alloc {kaena.resident}
// LOWER:      inf.dma %w_t_1 {{.*}}, %w2
// LOWER-NOT:  %w3
// LOWER:      inf.load_stationary %w_pre <p = 0, n = 128, off = 64*d0, dims = {{\[\[}}64, 1]]>
// LOWER-NOT:  %w3
// LOWER:      inf.dma %y
