// RUN: kaena-opt %s -p ktensor-plan-attention | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// An attention block whose context (through the head merge, reshapes and a bf16 cast) only the
// output dense matmul reads gets kaena.plan.context_chain: each head's context^T drains into that
// matmul's [128, (pair, query)] lhs^T tile, head 0 on partitions 0..63 and head 1 (its context
// matmul writing PSUM partitions 64..127) on 64..127; the dense reads the tile as its moving
// operand. The context never goes to DRAM and the dense loads no lhs^T.

func.func @main(%q: tensor<1x2x128x64xbf16> {kaena.name = "q"}, %k: tensor<1x2x64x128xbf16> {kaena.name = "k"}, %v: tensor<1x2x128x64xbf16> {kaena.name = "v"}, %wo: tensor<128x128xbf16> {kaena.name = "wo"}) -> (tensor<128x128xf32> {kaena.name = "y"}) {
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  %ot = ktensor.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x128x64xf32>) -> tensor<1x128x2x64xf32>
  %or = ktensor.reshape %ot : (tensor<1x128x2x64xf32>) -> tensor<1x128x128xf32>
  %o2 = ktensor.reshape %or : (tensor<1x128x128xf32>) -> tensor<128x128xf32>
  %ob = ktensor.cast %o2 : (tensor<128x128xf32>) -> tensor<128x128xbf16>
  %y = ktensor.matmul %ob, %wo {activation = "none"} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xf32>
  func.return %y : tensor<128x128xf32>
}

// PLAN:      %s = ktensor.batch_matmul %q, %k {kaena.plan.attention, kaena.plan.context_chain, kaena.plan.head_groups = 1 : i64

// CHECK:      %chain_t = inf.alloc : !inf.sbuf<128x128xbf16>
// CHECK:      %ps_o = inf.alloc : !inf.psum<128x128xf32>
// CHECK:      inf.matmul %ps_o <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %pt_t
// CHECK-NEXT: inf.activation "identity" %chain_t <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %ps_o <p = 0, n = 64
// CHECK-NOT:  inf.dma
// CHECK:      inf.matmul %ps_o <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %pt_t
// CHECK-NEXT: inf.activation "identity" %chain_t <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %ps_o <p = 64, n = 64
// CHECK-NOT:  inf.dma %x_t
// CHECK:      inf.dma %w_t {{.*}}, %wo
// CHECK-NOT:  inf.dma %x_t
// CHECK:      inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %chain_t <p = 0, n = 128, off = 0, dims = [[128, 1]]>
// CHECK:      inf.dma %y
