// RUN: kaena-opt %s -p ktensor-plan-matmul-streams | filecheck %s
// In a pipeline stage (kaena.pipeline on the module) the matmuls whose weights fill the stage's
// pin budget, largest first, keep their weights in one tile loaded by one DMA (no
// kaena.plan.weight_blocks), which inf-allocate-sram pins. The budget is a partition (98304
// bytes) less the stage's working set, its largest op's activations a partition: %a's x (1536),
// weight argument wa (9216) and result (3072), 13824; 84480 bytes. %f1's [768, 3072] (36864
// bytes a partition), %f2's [3072, 768] (36864) and %q's [768, 768] (9216) fit (82944);
// %k's [768, 768] does not fit beside them: it streams in 4 column blocks that alternate
// between two block slots (kaena.plan.weight_slots = 2) instead of filling a tile of the whole
// weight. %a's weights are a function argument (another stage's value): never pinned,
// streamed as on one core.

builtin.module attributes {kaena.pipeline = {cores = 2 : i64}} {
  func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %wa: tensor<768x768xbf16> {kaena.name = "wa"}) -> (tensor<128x768xf32> {kaena.name = "q"}, tensor<128x768xf32> {kaena.name = "k"}, tensor<128x768xf32> {kaena.name = "y"}, tensor<128x768xf32> {kaena.name = "a"}) {
    %wq = ktensor.weight "wq" : tensor<768x768xbf16>
    %wk = ktensor.weight "wk" : tensor<768x768xbf16>
    %w1 = ktensor.weight "w1" : tensor<768x3072xbf16>
    %w2 = ktensor.weight "w2" : tensor<3072x768xbf16>
    %q = ktensor.matmul %x, %wq {activation = "none"} : (tensor<128x768xbf16>, tensor<768x768xbf16>) -> tensor<128x768xf32>
    %k = ktensor.matmul %x, %wk {activation = "none"} : (tensor<128x768xbf16>, tensor<768x768xbf16>) -> tensor<128x768xf32>
    %f1 = ktensor.matmul %x, %w1 {activation = "relu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>) -> tensor<128x3072xf32>
    %h = ktensor.cast %f1 : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
    %f2 = ktensor.matmul %h, %w2 {activation = "none"} : (tensor<128x3072xbf16>, tensor<3072x768xbf16>) -> tensor<128x768xf32>
    %a = ktensor.matmul %x, %wa {activation = "none"} : (tensor<128x768xbf16>, tensor<768x768xbf16>) -> tensor<128x768xf32>
    func.return %q, %k, %f2, %a : tensor<128x768xf32>, tensor<128x768xf32>, tensor<128x768xf32>, tensor<128x768xf32>
  }
}

// CHECK:      %q = ktensor.matmul %x, %wq {activation = "none"}
// CHECK:      %k = ktensor.matmul %x, %wk {kaena.plan.shared_lhs, kaena.plan.weight_blocks = 4 : i64, kaena.plan.weight_slots = 2 : i64, activation = "none"}
// CHECK:      %f1 = ktensor.matmul %x, %w1 {kaena.plan.fuse_cast, kaena.plan.chain, kaena.plan.shared_lhs, activation = "relu"}
// CHECK:      %f2 = ktensor.matmul %h, %w2 {activation = "none"}
// CHECK:      %a = ktensor.matmul %x, %wa {kaena.plan.shared_lhs, kaena.plan.weight_blocks = 4 : i64, kaena.plan.weight_slots = 2 : i64, activation = "none"}
