// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The fused inputs (ktensor-plan-fused-inputs.mlir) in the lowering: the matmul DMAs its f32
// lhs^T into a staging tile and the scalar engine rounds it into the bf16 moving tile (the cast
// emits nothing); the layer norm loads both operands of the add into its row tiles and adds
// them on the vector engine (the add emits nothing). The cast with two users is one scalar-
// engine pass of its own.

func.func @main(%x: tensor<8x128xf32> {kaena.name = "x"}, %r: tensor<8x128xf32> {kaena.name = "r"}, %w: tensor<128x64xbf16> {kaena.name = "w"}, %g: tensor<128xf32> {kaena.name = "g"}, %row: tensor<128xf32> {kaena.name = "row"}) -> (tensor<8x64xf32> {kaena.name = "y"}, tensor<8x128xf32> {kaena.name = "n"}, tensor<8x64xf32> {kaena.name = "y2"}, tensor<8x64xf32> {kaena.name = "y3"}, tensor<8x128xf32> {kaena.name = "n2"}) {
  %xb = ktensor.cast %x : (tensor<8x128xf32>) -> tensor<8x128xbf16>
  %y = ktensor.matmul %xb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %s = ktensor.elementwise "add" %x, %r {activation = "none"} : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %n = ktensor.layer_norm %s, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<8x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %rb = ktensor.cast %r : (tensor<8x128xf32>) -> tensor<8x128xbf16>
  %y2 = ktensor.matmul %rb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %y3 = ktensor.matmul %rb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %sb = ktensor.elementwise "add" %x, %row {activation = "none"} : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %n2 = ktensor.layer_norm %sb, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<8x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  func.return %y, %n, %y2, %y3, %n2 : tensor<8x64xf32>, tensor<8x128xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x128xf32>
}


// CHECK:      %x_t = inf.alloc : !inf.sbuf<128x8xbf16>
// CHECK-NEXT: %x_f32 = inf.alloc : !inf.sbuf<128x8xf32>
// CHECK:      inf.dma %x_f32 <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 0, dims = [[8, 128]]>
// CHECK-NEXT: inf.activation "identity" %x_t <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x_f32 <p = 0, n = 128, off = 0, dims = [[8, 1]]> : !inf.sbuf<128x8xbf16>, !inf.sbuf<128x8xf32>
// CHECK-NEXT: inf.load_stationary %w_t
// CHECK:      %x2_t = inf.alloc : !inf.sbuf<8x128xf32>
// CHECK:      inf.dma %x_t_1 <p = 0, n = 8, off = 0, dims = [[128, 1]]>, %x <p = 0, n = 8, pstride = 128, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.dma %x2_t <p = 0, n = 8, off = 0, dims = [[128, 1]]>, %r <p = 0, n = 8, pstride = 128, off = 0, dims = [[128, 1]]>
// CHECK-NEXT: inf.tensor_tensor "add" %x_t_1 {{.*}}, %x_t_1 {{.*}}, %x2_t
// CHECK-NEXT: inf.tensor_scalar "sub" %xc_t {{.*}}, %x_t_1 {{.*}} scalar %x_t_1
// CHECK-NEXT: inf.reduce "add" %mean_t
// CHECK:      inf.dma %in0_t <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %r
// CHECK-NEXT: inf.activation "identity" %o_t_1
