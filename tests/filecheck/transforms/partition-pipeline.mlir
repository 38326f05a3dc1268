// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=3}' | filecheck %s
// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=3},ktensor-extract-stage{stage=2}' | filecheck %s --check-prefix=STAGE2
// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=3},ktensor-extract-stage{stage=1}' | filecheck %s --check-prefix=STAGE1
// RUN: not kaena-opt %s -p 'ktensor-partition-pipeline{cores=5}' 2>&1 | filecheck %s --check-prefix=TOOMANY

// Weights: ../Inputs/frontend-weights.npz. Four layers (a cast stays with its
// producer) on three cores. The weights are tiny, so they stay resident and cost no
// DMA per inference; what a stage pays is its layers and its transfers (a DMA out on
// the sender, one in on the receiver, 1 us each at least). The plan balances those:
// the middle stage, which receives and sends, gets the two small matmuls; %h crosses
// two cuts (stage 0 -> stage 2): it is counted in both and sent straight to stage 2.
// roofline_cycles: the least slowest stage over all cuts, a stage taking the larger of
// its PE floor and its DMAs of the cuts (in and out): here the middle stage's two
// transfers of 144 and 192 bytes (1 us fixed each), which every 3-stage cut pays.

// CHECK: kaena.pipeline = {cores = 3 : i64, chips = 1 : i64, stage_cycles = [{{[0-9]+}} : i64, {{[0-9]+}} : i64, {{[0-9]+}} : i64], weight_bytes = [408 : i64, 792 : i64, 0 : i64], cut_bytes = [144 : i64, 192 : i64], cut_links = ["dram", "dram"], cores_to_hold_weights = 1 : i64, roofline_cycles = 2025 : i64}
// CHECK:      %w = ktensor.weight "mm.weight" {kaena.pipeline.stage = 0 : i64}
// CHECK:      %h = ktensor.matmul {{.*}}kaena.pipeline.stage = 0 : i64
// CHECK-NEXT: %hc = ktensor.cast %h {kaena.pipeline.stage = 0 : i64}
// CHECK-NEXT: %w2 = ktensor.weight "fc.weight" {kaena.pipeline.stage = 1 : i64}
// CHECK-NEXT: %g = ktensor.matmul {{.*}}kaena.pipeline.stage = 1 : i64
// CHECK-NEXT: %gc = ktensor.cast %g {kaena.pipeline.stage = 1 : i64}
// CHECK-NEXT: %e = ktensor.matmul {{.*}}kaena.pipeline.stage = 1 : i64
// CHECK-NEXT: %s = ktensor.elementwise "add" {{.*}}kaena.pipeline.stage = 2 : i64

// Stage 1 reads what stage 0 sends it, clones the weights it shares with stage 0,
// and sends stage 2 its result.
// STAGE1: func.func @main(%hc: tensor<4x6xbf16> {kaena.name = "pipe.3.hc.s1"}) -> (tensor<4x6xf32> {kaena.name = "pipe.7.e.s2"})
// STAGE1-NEXT: %w = ktensor.weight "mm.weight"
// STAGE1-NEXT: %b = ktensor.weight "fc.bias"
// STAGE1-NEXT: %w2 = ktensor.weight "fc.weight"
// STAGE1-NEXT: %g = ktensor.matmul %hc, %w2
// STAGE1-NEXT: %gc = ktensor.cast %g
// STAGE1-NEXT: %e = ktensor.matmul %gc, %w bias %b
// STAGE1-NEXT: func.return %e

// Stage 2 reads from both earlier stages and makes the model output.
// STAGE2: func.func @main(%h: tensor<4x6xf32> {kaena.name = "pipe.2.h.s2"}, %e: tensor<4x6xf32> {kaena.name = "pipe.7.e.s2"}) -> (tensor<4x6xf32> {kaena.name = "y"})
// STAGE2-NEXT: %s = ktensor.elementwise "add" %e, %h
// STAGE2-NEXT: func.return %s

// TOOMANY: --neuroncore-pipeline-cores 5: the model has only 4 layers to place; use at most 4 cores

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz", kaena.target = "inf1"} {
func.func @main(%x: tensor<4x32xbf16> {kaena.name = "x"}) -> (tensor<4x6xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "mm.weight" : tensor<32x6xbf16>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %h = ktensor.matmul %x, %w bias %b {activation = "relu"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xf32>) -> tensor<4x6xf32>
  %hc = ktensor.cast %h : (tensor<4x6xf32>) -> tensor<4x6xbf16>
  %w2 = ktensor.weight "fc.weight" : tensor<6x32xbf16>
  %g = ktensor.matmul %hc, %w2 {activation = "none"} : (tensor<4x6xbf16>, tensor<6x32xbf16>) -> tensor<4x32xf32>
  %gc = ktensor.cast %g : (tensor<4x32xf32>) -> tensor<4x32xbf16>
  %e = ktensor.matmul %gc, %w bias %b {activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xf32>) -> tensor<4x6xf32>
  %s = ktensor.elementwise "add" %e, %h {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}
}
