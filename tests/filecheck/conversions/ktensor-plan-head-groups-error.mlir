// RUN: not kaena-opt %s -p ktensor-plan-attention 2>&1 | filecheck %s
// A hand-written kaena.plan.head_groups that does not divide the block's heads is refused with
// one line naming the op and why.

func.func @main(%q: tensor<1x2x8x16xf32> {kaena.name = "q"}, %k: tensor<1x2x16x8xf32> {kaena.name = "k"}, %v: tensor<1x2x8x16xf32> {kaena.name = "v"}) -> (tensor<1x2x8x16xf32> {kaena.name = "y"}) {
  %s = ktensor.batch_matmul %q, %k {kaena.plan.attention, kaena.plan.head_groups = 3 : i64, kaena.source = ["attn/MatMul"], transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o = ktensor.batch_matmul %p, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  func.return %o : tensor<1x2x8x16xf32>
}

// CHECK: cannot lower node 'attn/MatMul' ('ktensor.batch_matmul' ([1, 2, 8, 16], [1, 2, 16, 8] -> [1, 2, 8, 8])): kaena.plan.head_groups = 3, but the block has 2 heads (the groups must divide them)
