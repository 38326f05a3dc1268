// RUN: kaena-opt %s -p ktensor-plan-matmul-streams | filecheck %s
// ktensor-plan-matmul-streams records kaena.plan.weight_blocks = n on a matmul whose weights stream
// in n column blocks, each block's output tiles computed once it has landed: the FFN's [768, 3072]
// bf16 weights against 128 rows, priced by the cost model (8 blocks of 6 output tiles: each
// further block costs one DMA's fixed latency, hides more of the PE array's time). Not streamed:
// 600 rows (more than one moving tile: the weights are reused across row tiles). Chained
// (kaena.plan.chain): a matmul whose result, through a cast, is only the next matmul's lhs; not
// chained: one whose result is also a function result. %h reads the lhs^T tile %y loaded from
// the same %x (kaena.plan.shared_lhs).

func.func @main(%x: tensor<128x768xbf16> {kaena.name = "x"}, %w: tensor<768x3072xbf16> {kaena.name = "w"}, %b: tensor<3072xf32> {kaena.name = "b"}, %x2: tensor<600x384xbf16> {kaena.name = "x2"}, %w2: tensor<384x192xbf16> {kaena.name = "w2"}, %w3: tensor<3072x768xbf16> {kaena.name = "w3"}) -> (tensor<128x3072xbf16> {kaena.name = "y"}, tensor<600x192xf32> {kaena.name = "y2"}, tensor<128x768xf32> {kaena.name = "z"}, tensor<128x768xf32> {kaena.name = "z2"}) {
  %y = ktensor.matmul %x, %w bias %b {activation = "gelu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>, tensor<3072xf32>) -> tensor<128x3072xf32>
  %yb = ktensor.cast %y : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  %y2 = ktensor.matmul %x2, %w2 {activation = "none"} : (tensor<600x384xbf16>, tensor<384x192xbf16>) -> tensor<600x192xf32>
  %h = ktensor.matmul %x, %w bias %b {activation = "gelu"} : (tensor<128x768xbf16>, tensor<768x3072xbf16>, tensor<3072xf32>) -> tensor<128x3072xf32>
  %hb = ktensor.cast %h : (tensor<128x3072xf32>) -> tensor<128x3072xbf16>
  %z = ktensor.matmul %hb, %w3 {activation = "none"} : (tensor<128x3072xbf16>, tensor<3072x768xbf16>) -> tensor<128x768xf32>
  %z2 = ktensor.matmul %yb, %w3 {activation = "none"} : (tensor<128x3072xbf16>, tensor<3072x768xbf16>) -> tensor<128x768xf32>
  func.return %yb, %y2, %z, %z2 : tensor<128x3072xbf16>, tensor<600x192xf32>, tensor<128x768xf32>, tensor<128x768xf32>
}

// CHECK:      kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table", "attention", "matmul-streams"]
// CHECK:      %y = ktensor.matmul %x, %w bias %b {kaena.plan.fuse_cast, kaena.plan.weight_blocks = 8 : i64, activation = "gelu"}
// CHECK:      %y2 = ktensor.matmul %x2, %w2 {activation = "none"}
// CHECK:      %h = ktensor.matmul %x, %w bias %b {kaena.plan.fuse_cast, kaena.plan.chain, kaena.plan.shared_lhs, kaena.plan.weight_blocks = 8 : i64, activation = "gelu"}
// CHECK:      %z = ktensor.matmul %hb, %w3 {kaena.plan.weight_blocks = 6 : i64, activation = "none"}
// CHECK:      %z2 = ktensor.matmul %yb, %w3 {kaena.plan.weight_blocks = 6 : i64, activation = "none"}
