// RUN: kaena-opt %s -p ktensor-plan-matmul-streams | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Two projections of one input (as Q and K of a layer): the second gets kaena.plan.shared_lhs and
// reads the lhs^T tile the first loaded and rounded to bf16 (one f32 DMA and one rounding for
// both); it loads only its weights.

func.func @main(%x: tensor<1x128x256xf32> {kaena.name = "x"}, %wq: tensor<256x128xbf16> {kaena.name = "wq"}, %wk: tensor<256x128xbf16> {kaena.name = "wk"}) -> (tensor<128x128xf32> {kaena.name = "q"}, tensor<128x128xf32> {kaena.name = "k"}) {
  %x1 = ktensor.reshape %x : (tensor<1x128x256xf32>) -> tensor<128x256xf32>
  %xq = ktensor.cast %x1 : (tensor<128x256xf32>) -> tensor<128x256xbf16>
  %q = ktensor.matmul %xq, %wq {activation = "none"} : (tensor<128x256xbf16>, tensor<256x128xbf16>) -> tensor<128x128xf32>
  %x2 = ktensor.reshape %x : (tensor<1x128x256xf32>) -> tensor<128x256xf32>
  %xk = ktensor.cast %x2 : (tensor<128x256xf32>) -> tensor<128x256xbf16>
  %k = ktensor.matmul %xk, %wk {activation = "none"} : (tensor<128x256xbf16>, tensor<256x128xbf16>) -> tensor<128x128xf32>
  func.return %q, %k : tensor<128x128xf32>, tensor<128x128xf32>
}

// PLAN:      %q = ktensor.matmul %xq, %wq {kaena.plan.fuse_input, activation = "none"}
// PLAN:      %k = ktensor.matmul %xk, %wk {kaena.plan.fuse_input, kaena.plan.shared_lhs, activation = "none"}

// CHECK:      inf.dma %x_f32 <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %x
// CHECK-NEXT: inf.activation "identity" %x_t <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %x_f32
// CHECK:      %w_t_1 = inf.alloc : !inf.sbuf<128x256xbf16>
// CHECK-NEXT: %ps_1 = inf.alloc
// CHECK-NEXT: %o_t_1 = inf.alloc
// CHECK-NEXT: inf.dma %w_t_1 <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %wk
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.load_stationary %w_t_1
// CHECK-NEXT: inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %x_t <p = 0, n = 128, off = 128*d1, dims = [[128, 1]]>
// CHECK-NOT:  inf.dma %x_
// CHECK:      inf.dma %k
