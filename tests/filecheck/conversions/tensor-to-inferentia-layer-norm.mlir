// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// 300 rows in 3 tiles of 100 partitions (one inf.loop), D = 32 on the free dim: mean and variance by vector reduces with scale 1/D, rsqrt(var + eps) with eps as the immediate bias, gamma/beta loaded once: one row by DMA, copied onto the 100 partitions by the PE array (a ones stationary, two matmuls at partitions 0 and 64), which the cost model prices below a stride-0 DMA of 100 copies.

builtin.module attributes {kaena.model_name = "ln"} {
  func.func @main(%x: tensor<2x150x32xf32> {kaena.name = "x"}) -> (tensor<2x150x32xf32> {kaena.name = "y"}) {
    %g = ktensor.weight "ln.gamma" : tensor<32xf32>
    %b = ktensor.weight "ln.beta" : tensor<32xf32>
    %y = ktensor.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<2x150x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x150x32xf32>
    func.return %y : tensor<2x150x32xf32>
  }
}

// CHECK:      %gamma_row = inf.alloc : !inf.sbuf<1x32xf32>
// CHECK-NEXT: %ones_t = inf.alloc : !inf.sbuf<1x64xf32>
// CHECK-NEXT: %gamma_ps = inf.alloc : !inf.psum<100x32xf32>
// CHECK-NEXT: %gamma_t = inf.alloc : !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.memset %ones_t <p = 0, n = 1, off = 0, dims = [[64, 1]]> {value = 1.000000e+00 : f32}
// CHECK-NEXT: inf.dma %gamma_row <p = 0, n = 1, off = 0, dims = [[32, 1]]>, %ln.gamma <p = 0, n = 1, pstride = 32, off = 0, dims = [[32, 1]]> : !inf.sbuf<1x32xf32>, !inf.dram<32xf32>
// CHECK-NEXT: inf.load_stationary %ones_t <p = 0, n = 1, off = 0, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %gamma_ps <p = 0, n = 64, off = 0, dims = [[32, 1]]>, %gamma_row <p = 0, n = 1, off = 0, dims = [[32, 1]]>
// CHECK-NEXT: inf.load_stationary %ones_t <p = 0, n = 1, off = 0, dims = [[36, 1]]>
// CHECK-NEXT: inf.matmul %gamma_ps <p = 64, n = 36, off = 0, dims = [[32, 1]]>, %gamma_row <p = 0, n = 1, off = 0, dims = [[32, 1]]>
// CHECK-NEXT: inf.activation "identity" %gamma_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %gamma_ps <p = 0, n = 100, off = 0, dims = [[32, 1]]>
// CHECK:      inf.dma %beta_row <p = 0, n = 1, off = 0, dims = [[32, 1]]>, %ln.beta
// CHECK:      inf.activation "identity" %beta_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %beta_ps
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<100x32xf32>
// CHECK-NEXT: %xc_t = inf.alloc : !inf.sbuf<100x32xf32>
// CHECK-NEXT: %xn_t = inf.alloc : !inf.sbuf<100x32xf32>
// CHECK-NEXT: %mean_t = inf.alloc : !inf.sbuf<100x1xf32>
// CHECK-NEXT: %rstd_t = inf.alloc : !inf.sbuf<100x1xf32>
// CHECK-NEXT: %y_t = inf.alloc : !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %x <p = 0, n = 100, pstride = 32, off = 3200*d0, dims = [[32, 1]]> : !inf.sbuf<100x32xf32>, !inf.dram<2x150x32xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %x_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> scalar %x_t {scalar_ap = #inf.ap<p = 0, n = 100, off = 0, dims = [[1, 1]]>} : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.reduce "add" %mean_t <p = 0, n = 100, off = 0, dims = [[1, 1]]>, %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> {axes = 1 : i64, scale = 3.125000e-02 : f32} : !inf.sbuf<100x1xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> scalar %mean_t {scalar_ap = #inf.ap<p = 0, n = 100, off = 0, dims = [[1, 1]]>} : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>, !inf.sbuf<100x1xf32>
// CHECK-NEXT: inf.activation "square" %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.reduce "add" %rstd_t <p = 0, n = 100, off = 0, dims = [[1, 1]]>, %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> {axes = 1 : i64, scale = 3.125000e-02 : f32} : !inf.sbuf<100x1xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.activation "rsqrt" %rstd_t <p = 0, n = 100, off = 0, dims = [[1, 1]]>, %rstd_t <p = 0, n = 100, off = 0, dims = [[1, 1]]> {imm = 1.000000e-05 : f32} : !inf.sbuf<100x1xf32>, !inf.sbuf<100x1xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %xc_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> scalar %rstd_t {scalar_ap = #inf.ap<p = 0, n = 100, off = 0, dims = [[1, 1]]>} : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>, !inf.sbuf<100x1xf32>
// CHECK-NEXT: inf.tensor_tensor "mul" %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %gamma_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %y_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %xn_t <p = 0, n = 100, off = 0, dims = [[32, 1]]>, %beta_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> : !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 100, pstride = 32, off = 3200*d0, dims = [[32, 1]]>, %y_t <p = 0, n = 100, off = 0, dims = [[32, 1]]> : !inf.dram<2x150x32xf32>, !inf.sbuf<100x32xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
