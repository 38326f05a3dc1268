// RUN: kaena-opt %s -p ktensor-plan-residency | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A layer norm whose [S, H] result only matmuls (through their fused f32 -> bf16 casts) and the
// residual add of the next layer norm read gets kaena.plan.token_tile: its result stays in SBUF
// token-major (%tok_sb, never written to DRAM); the first matmul rounds it to bf16 once and
// transposes it on the PE array (two halves of 64 columns per 128-feature tile, times an
// identity) into its lhs^T tile, which the second matmul shares (kaena.plan.shared_lhs); the
// next layer norm adds it from SBUF. Not token-major: a layer norm whose result feeds an add of
// itself (no layer norm does that add).

func.func @main(%x: tensor<1x128x256xf32> {kaena.name = "x"}, %r: tensor<1x128x256xf32> {kaena.name = "r"}, %g: tensor<256xf32> {kaena.name = "g"}, %wq: tensor<256x128xbf16> {kaena.name = "wq"}, %wk: tensor<256x128xbf16> {kaena.name = "wk"}) -> (tensor<128x128xf32> {kaena.name = "q"}, tensor<128x128xf32> {kaena.name = "k"}, tensor<1x128x256xf32> {kaena.name = "y"}) {
  %n = ktensor.layer_norm %x, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<1x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x128x256xf32>
  %x1 = ktensor.reshape %n : (tensor<1x128x256xf32>) -> tensor<128x256xf32>
  %xq = ktensor.cast %x1 : (tensor<128x256xf32>) -> tensor<128x256xbf16>
  %q = ktensor.matmul %xq, %wq {activation = "none"} : (tensor<128x256xbf16>, tensor<256x128xbf16>) -> tensor<128x128xf32>
  %x2 = ktensor.reshape %n : (tensor<1x128x256xf32>) -> tensor<128x256xf32>
  %xk = ktensor.cast %x2 : (tensor<128x256xf32>) -> tensor<128x256xbf16>
  %k = ktensor.matmul %xk, %wk {activation = "none"} : (tensor<128x256xbf16>, tensor<256x128xbf16>) -> tensor<128x128xf32>
  %s = ktensor.elementwise "add" %r, %n {activation = "none"} : (tensor<1x128x256xf32>, tensor<1x128x256xf32>) -> tensor<1x128x256xf32>
  %y = ktensor.layer_norm %s, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<1x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x128x256xf32>
  %n2 = ktensor.layer_norm %x, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<1x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x128x256xf32>
  %s2 = ktensor.elementwise "add" %n2, %n2 {activation = "none"} : (tensor<1x128x256xf32>, tensor<1x128x256xf32>) -> tensor<1x128x256xf32>
  %y2 = ktensor.layer_norm %s2, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<1x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x128x256xf32>
  func.return %q, %k, %y : tensor<128x128xf32>, tensor<128x128xf32>, tensor<1x128x256xf32>
}

// PLAN:      %n = ktensor.layer_norm %x, %g, %g {kaena.plan.token_tile, epsilon
// PLAN:      %k = ktensor.matmul %xk, %wk {kaena.plan.fuse_input, kaena.plan.shared_lhs, activation
// PLAN:      %y = ktensor.layer_norm %s, %g, %g {kaena.plan.fuse_input, epsilon
// PLAN:      %n2 = ktensor.layer_norm %x, %g, %g {epsilon

// CHECK:      %tok_sb = inf.alloc : !inf.sbuf<128x256xf32>
// CHECK:      inf.tensor_tensor "add" %tok_sb <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %xn_t
// CHECK-NOT:  inf.dma {{.*}}, %tok_sb
// CHECK:      inf.activation "identity" %xb_t <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %tok_sb <p = 0, n = 128, off = 0, dims = [[256, 1]]> : !inf.sbuf<128x256xbf16>, !inf.sbuf<128x256xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.load_stationary %xb_t <p = 0, n = 128, off = 128*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_xt <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %eye_sq <p = 0, n = 128, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.load_stationary %xb_t <p = 0, n = 128, off = 64 + 128*d0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_xt <p = 64, n = 64, off = 0, dims = [[128, 1]]>, %eye_sq
// CHECK-NEXT: inf.activation "identity" %x_t_1 <p = 0, n = 128, off = 128*d0, dims = [[128, 1]]>, %ps_xt
// CHECK-NEXT: }
// CHECK:      inf.matmul %ps_1 <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %x_t_1
// the next layer norm: the residual from %r by DMA, the layer norm's result from SBUF
// CHECK:      inf.dma %x_t_2 <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %r
// CHECK-NEXT: inf.tensor_tensor "add" %x_t_2 <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %x_t_2 <p = 0, n = 128, off = 0, dims = [[256, 1]]>, %tok_sb
