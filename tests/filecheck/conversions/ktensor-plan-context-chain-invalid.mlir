// RUN: not kaena-opt %s -p ktensor-plan-attention 2>&1 | filecheck %s
// kaena.plan.context_chain written by hand on a block whose context is a result (no matmul reads it) is one error line.

func.func @main(%q: tensor<1x2x128x64xbf16> {kaena.name = "q"}, %k: tensor<1x2x64x128xbf16> {kaena.name = "k"}, %v: tensor<1x2x128x64xbf16> {kaena.name = "v"}) -> (tensor<1x2x128x64xf32> {kaena.name = "y"}) {
  %s = ktensor.batch_matmul %q, %k {kaena.plan.context_chain, transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  func.return %o : tensor<1x2x128x64xf32>
}

// CHECK: kaena.plan.context_chain is set, but its context is not the lhs of one matmul that can read it from SBUF in pairs of heads
