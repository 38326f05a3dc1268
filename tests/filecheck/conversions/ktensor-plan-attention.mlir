// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', c=np.array(8.0, np.float32))"
// RUN: kaena-opt %t/m.mlir -p ktensor-plan-attention | filecheck %s
// ktensor-plan-attention marks the scores batch_matmul of an attention block it lowers as one
// loop over heads in SBUF (kaena.plan.attention): scores scaled and masked per key by their
// drain (the epilogue), a softmax over keys writing its bf16 cast, the context batch_matmul
// reading the probabilities; with it kaena.plan.head_groups, the groups of heads whose q, k, v
// load together (here one head each: the queue loads head 1 while the engines do head 0). Not marked: a block whose probabilities are also a result (they
// must reach DRAM), a block whose context has more features than a PE tile's columns.

builtin.module attributes {kaena.weights = "w.npz"} {
func.func @main(%q: tensor<1x2x128x64xbf16> {kaena.name = "q"}, %k: tensor<1x2x64x128xbf16> {kaena.name = "k"}, %v: tensor<1x2x128x64xbf16> {kaena.name = "v"}, %m: tensor<1x1x1x128xf32> {kaena.name = "m"}, %v2: tensor<1x2x128x128xbf16> {kaena.name = "v2"}) -> (tensor<1x128x128xbf16> {kaena.name = "y"}, tensor<1x2x128x64xf32> {kaena.name = "z"}, tensor<1x2x128x128xbf16> {kaena.name = "p2"}, tensor<1x2x128x128xf32> {kaena.name = "w"}) {
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %c = ktensor.weight "c" : tensor<f32>
  %sd = ktensor.elementwise "div" %s, %c {activation = "none"} : (tensor<1x2x128x128xf32>, tensor<f32>) -> tensor<1x2x128x128xf32>
  %sm = ktensor.elementwise "add" %sd, %m {activation = "none"} : (tensor<1x2x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %sm {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  %ot = ktensor.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x128x64xf32>) -> tensor<1x128x2x64xf32>
  %or = ktensor.reshape %ot : (tensor<1x128x2x64xf32>) -> tensor<1x128x128xf32>
  %ob = ktensor.cast %or : (tensor<1x128x128xf32>) -> tensor<1x128x128xbf16>
  %s2 = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p2 = ktensor.softmax %s2 {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %p2b = ktensor.cast %p2 : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o2 = ktensor.batch_matmul %p2b, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  %s3 = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p3 = ktensor.softmax %s3 {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %p3b = ktensor.cast %p3 : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o3 = ktensor.batch_matmul %p3b, %v2 {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>) -> tensor<1x2x128x128xf32>
  func.return %ob, %o2, %p2b, %o3 : tensor<1x128x128xbf16>, tensor<1x2x128x64xf32>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xf32>
}
}

// CHECK:      kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table", "attention"]
// CHECK:      %s = ktensor.batch_matmul %q, %k {kaena.plan.epilogue = 2 : i64, kaena.plan.attention, kaena.plan.head_groups = 2 : i64, transpose_lhs
// CHECK:      %p = ktensor.softmax %sm {kaena.plan.fuse_cast, axis = 3 : i64}
// CHECK:      %o = ktensor.batch_matmul %pb, %v {kaena.plan.epilogue = 3 : i64, transpose_lhs
// CHECK:      %s2 = ktensor.batch_matmul %q, %k {transpose_lhs
// CHECK:      %s3 = ktensor.batch_matmul %q, %k {transpose_lhs
// CHECK-NOT:  kaena.plan.attention
