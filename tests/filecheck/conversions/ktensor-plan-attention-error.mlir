// RUN: not kaena-opt %s -p ktensor-plan-attention 2>&1 | filecheck %s
// A hand-written kaena.plan.attention on a scores batch_matmul whose probabilities are also a
// function result is refused with one line naming the op and why.

func.func @main(%q: tensor<1x2x8x16xf32> {kaena.name = "q"}, %k: tensor<1x2x16x8xf32> {kaena.name = "k"}, %v: tensor<1x2x8x16xf32> {kaena.name = "v"}) -> (tensor<1x2x8x16xf32> {kaena.name = "y"}, tensor<1x2x8x8xf32> {kaena.name = "p"}) {
  %s = ktensor.batch_matmul %q, %k {kaena.plan.attention, kaena.source = ["attn/MatMul"], transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o = ktensor.batch_matmul %p, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  func.return %o, %p : tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32>
}

// CHECK: cannot lower node 'attn/MatMul' ('ktensor.batch_matmul' ([1, 2, 8, 16], [1, 2, 16, 8] -> [1, 2, 8, 8])): kaena.plan.attention is set, but its probabilities are not the lhs of a batch_matmul only they feed
