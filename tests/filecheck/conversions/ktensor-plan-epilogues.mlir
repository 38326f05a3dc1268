// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: python -c "import numpy as np; np.savez('%t/w.npz', c=np.array(8.0, np.float32), wq=np.zeros((128, 128), np.float32))"
// RUN: kaena-opt %t/m.mlir -p ktensor-plan-epilogues | filecheck %s
// ktensor-plan-epilogues records how many next users a matmul's drain writes through
// (kaena.plan.epilogue): the query projection's reshape, head transpose and cast (its result DMA
// writes the [heads, seq, 64] layout in bf16); the scores' division by a constant and the add of
// the per-key mask (scale and bias of the PSUM drain). Not absorbed: a constant divided by the
// scores (not a scale), a mask varying along the queries (not one value per key). The softmax
// writes its cast directly (kaena.plan.fuse_cast, from ktensor-plan-fused-casts).

builtin.module attributes {kaena.weights = "w.npz"} {
func.func @main(%x: tensor<8x128xbf16> {kaena.name = "x"}, %k: tensor<1x2x64x8xbf16> {kaena.name = "k"}, %mask: tensor<1x1x1x8xf32> {kaena.name = "mask"}, %causal: tensor<1x1x8x8xf32> {kaena.name = "causal"}) -> (tensor<1x2x8x8xbf16> {kaena.name = "p"}, tensor<1x2x8x8xf32> {kaena.name = "r"}, tensor<1x2x8x8xf32> {kaena.name = "u"}) {
  %wq = ktensor.weight "wq" : tensor<128x128xbf16>
  %q = ktensor.matmul %x, %wq {activation = "none"} : (tensor<8x128xbf16>, tensor<128x128xbf16>) -> tensor<8x128xf32>
  %q4 = ktensor.reshape %q : (tensor<8x128xf32>) -> tensor<1x8x2x64xf32>
  %qt = ktensor.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x2x64xf32>) -> tensor<1x2x8x64xf32>
  %qb = ktensor.cast %qt : (tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xbf16>
  %s = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %c = ktensor.weight "c" : tensor<f32>
  %sd = ktensor.elementwise "div" %s, %c {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %sm = ktensor.elementwise "add" %sd, %mask {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
  %p = ktensor.softmax %sm {axis = 3 : i64} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %pb = ktensor.cast %p : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xbf16>
  %r = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %rd = ktensor.elementwise "div" %c, %r {activation = "none"} : (tensor<f32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %u = ktensor.batch_matmul %qb, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x8x64xbf16>, tensor<1x2x64x8xbf16>) -> tensor<1x2x8x8xf32>
  %um = ktensor.elementwise "mul" %u, %c {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %uc = ktensor.elementwise "add" %um, %causal {activation = "none"} : (tensor<1x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<1x2x8x8xf32>
  func.return %pb, %rd, %uc : tensor<1x2x8x8xbf16>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
}
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues"]}
// CHECK:      %q = ktensor.matmul %x, %wq {kaena.plan.epilogue = 3 : i64, activation = "none"}
// CHECK-NEXT: %q4 = ktensor.reshape %q :
// CHECK-NEXT: %qt = ktensor.transpose %q4 {perm
// CHECK-NEXT: %qb = ktensor.cast %qt :
// CHECK-NEXT: %s = ktensor.batch_matmul %qb, %k {kaena.plan.epilogue = 2 : i64, transpose_lhs
// CHECK:      %p = ktensor.softmax %sm {kaena.plan.fuse_cast, axis = 3 : i64}
// CHECK-NEXT: %pb = ktensor.cast %p :
// CHECK-NEXT: %r = ktensor.batch_matmul %qb, %k {transpose_lhs
// CHECK-NEXT: %rd = ktensor.elementwise "div" %c, %r {activation
// CHECK-NEXT: %u = ktensor.batch_matmul %qb, %k {kaena.plan.epilogue = 1 : i64, transpose_lhs
