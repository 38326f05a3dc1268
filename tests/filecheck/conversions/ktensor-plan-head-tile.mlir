// RUN: kaena-opt %s -p ktensor-plan-matmul-streams | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The Q and K projections of a planned attention block get kaena.plan.head_tile: each drains its
// head-transposed result, 64 features of one head at a time on PSUM partitions 0..63, straight
// into a [64, (head, row)] SBUF tile, and the attention's scores read q^T and k from those tiles:
// no DRAM write of q or k and no DMA loading them back (v, an argument, is still loaded).

func.func @main(%x: tensor<128x128xbf16> {kaena.name = "x"}, %wq: tensor<128x128xbf16> {kaena.name = "wq"}, %wk: tensor<128x128xbf16> {kaena.name = "wk"}, %v: tensor<1x2x128x64xbf16> {kaena.name = "v"}) -> (tensor<1x128x128xbf16> {kaena.name = "y"}) {
  %q0 = ktensor.matmul %x, %wq {activation = "none"} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xf32>
  %q1 = ktensor.reshape %q0 : (tensor<128x128xf32>) -> tensor<1x128x2x64xf32>
  %q2 = ktensor.transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x128x2x64xf32>) -> tensor<1x2x128x64xf32>
  %q = ktensor.cast %q2 : (tensor<1x2x128x64xf32>) -> tensor<1x2x128x64xbf16>
  %k0 = ktensor.matmul %x, %wk {activation = "none"} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xf32>
  %k1 = ktensor.reshape %k0 : (tensor<128x128xf32>) -> tensor<1x128x2x64xf32>
  %k2 = ktensor.transpose %k1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x128x2x64xf32>) -> tensor<1x2x64x128xf32>
  %k = ktensor.cast %k2 : (tensor<1x2x64x128xf32>) -> tensor<1x2x64x128xbf16>
  %s = ktensor.batch_matmul %q, %k {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x64xbf16>, tensor<1x2x64x128xbf16>) -> tensor<1x2x128x128xf32>
  %p = ktensor.softmax %s {axis = 3 : i64} : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32>
  %pb = ktensor.cast %p : (tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xbf16>
  %o = ktensor.batch_matmul %pb, %v {transpose_lhs = false, transpose_rhs = false} : (tensor<1x2x128x128xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xf32>
  %ot = ktensor.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x128x64xf32>) -> tensor<1x128x2x64xf32>
  %or = ktensor.reshape %ot : (tensor<1x128x2x64xf32>) -> tensor<1x128x128xf32>
  %ob = ktensor.cast %or : (tensor<1x128x128xf32>) -> tensor<1x128x128xbf16>
  func.return %ob : tensor<1x128x128xbf16>
}

// PLAN:      %q0 = ktensor.matmul %x, %wq {kaena.plan.epilogue = 3 : i64, kaena.plan.head_tile, activation = "none"}
// PLAN:      %k0 = ktensor.matmul %x, %wk {kaena.plan.epilogue = 3 : i64, kaena.plan.shared_lhs, kaena.plan.head_tile, activation = "none"}
// PLAN:      %s = ktensor.batch_matmul %q, %k {kaena.plan.attention

// CHECK:      %head_t = inf.alloc : !inf.sbuf<64x256xbf16>
// CHECK:      inf.dma %w_t {{.*}}, %wq
// CHECK:      inf.activation "identity" %head_t <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>, %ps <p = 0, n = 64
// CHECK:      %head_t_1 = inf.alloc : !inf.sbuf<64x256xbf16>
// CHECK:      inf.activation "identity" %head_t_1 <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>, %ps_1 <p = 0, n = 64
// CHECK-NOT:  inf.dma {{.*}}%head_t
// CHECK:      inf.dma %v_t
// CHECK-NOT:  inf.dma {{.*}}%head_t
// CHECK:      inf.load_stationary %head_t <p = 0, n = 64, off = 128*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_s <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %head_t_1 <p = 0, n = 64, off = 128*d0, dims = [[128, 1]]>
// CHECK-NOT:  inf.dma {{.*}}%head_t
// CHECK:      inf.dma %y
