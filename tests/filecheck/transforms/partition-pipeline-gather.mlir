// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=2}' | filecheck %s

// An embedding table stays in DRAM: the DMA gather reads only the 128 indexed rows
// (64 KiB), so the 16 MiB table neither needs to fit a stage's SBUF nor is streamed
// each inference. The stage that gathers pays one gather (tens of thousands of
// cycles, not the 1.26M of streaming the table), and one core can hold the weights;
// weight_bytes still reports each stage's weights in DRAM, the table included.

// CHECK: kaena.pipeline = {cores = 2 : i64, chips = 1 : i64, stage_cycles = [{{[1-9][0-9][0-9][0-9][0-9]?}} : i64, {{[0-9]+}} : i64], weight_bytes = [16777216 : i64, 393216 : i64], {{.*}}cores_to_hold_weights = 1 : i64, roofline_cycles = {{[0-9]+}} : i64}
// CHECK: %e = ktensor.gather %table, %ids {kaena.pipeline.stage = 0 : i64}

builtin.module attributes {kaena.target = "inf1"} {
func.func @main(%ids: tensor<128xi32> {kaena.name = "ids"}) -> (tensor<128x256xf32> {kaena.name = "y"}) {
  %table = ktensor.weight "embeddings.word" : tensor<32768x128xf32>
  %e = ktensor.gather %table, %ids : (tensor<32768x128xf32>, tensor<128xi32>) -> tensor<128x128xf32>
  %w = ktensor.weight "dense.weight" : tensor<128x256xf32>
  %h = ktensor.matmul %e, %w {activation = "none"} : (tensor<128x128xf32>, tensor<128x256xf32>) -> tensor<128x256xf32>
  %w2 = ktensor.weight "out.weight" : tensor<256x256xf32>
  %o = ktensor.matmul %h, %w2 {activation = "none"} : (tensor<128x256xf32>, tensor<256x256xf32>) -> tensor<128x256xf32>
  func.return %o : tensor<128x256xf32>
}
}
