// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Log-softmax rows on partitions (a middle axis read with a strided pattern, the outer index an inf.loop): max, x - max, exp, sum, log on the scalar engine, (x - max) - log(sum).

func.func @main(%x: tensor<4x10xf32> {kaena.name = "x"}, %v: tensor<2x5x3xf32> {kaena.name = "v"}) -> (tensor<4x10xf32> {kaena.name = "y"}, tensor<2x5x3xf32> {kaena.name = "z"}) {
  %y = ktensor.log_softmax %x {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %z = ktensor.log_softmax %v {axis = 1 : i64} : (tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  func.return %y, %z : tensor<4x10xf32>, tensor<2x5x3xf32>
}

// CHECK:      %x = inf.dram "input" "x" : !inf.dram<4x10xf32>
// CHECK-NEXT: %v = inf.dram "input" "v" : !inf.dram<2x5x3xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<4x10xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<2x5x3xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: %xc_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: %e_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: %max_t = inf.alloc : !inf.sbuf<4x1xf32>
// CHECK-NEXT: %lse_t = inf.alloc : !inf.sbuf<4x1xf32>
// CHECK-NEXT: %y_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %x <p = 0, n = 4, pstride = 10, off = 0, dims = [[10, 1]]> : !inf.sbuf<4x10xf32>, !inf.dram<4x10xf32>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> {axes = 1 : i64} : !inf.sbuf<4x1xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %xc_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> scalar %max_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.activation "exp" %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %xc_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.reduce "add" %lse_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> {axes = 1 : i64} : !inf.sbuf<4x1xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.activation "log" %lse_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %lse_t <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x1xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %y_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %xc_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> scalar %lse_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 4, pstride = 10, off = 0, dims = [[10, 1]]>, %y_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> : !inf.dram<4x10xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: %x_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: %xc_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: %e_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: %max_t_1 = inf.alloc : !inf.sbuf<3x1xf32>
// CHECK-NEXT: %lse_t_1 = inf.alloc : !inf.sbuf<3x1xf32>
// CHECK-NEXT: %y_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %v <p = 0, n = 3, pstride = 1, off = 15*d0, dims = [[5, 3]]> : !inf.sbuf<3x5xf32>, !inf.dram<2x5x3xf32>
// CHECK-NEXT: inf.reduce "max" %max_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> {axes = 1 : i64} : !inf.sbuf<3x1xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %xc_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> scalar %max_t_1 {scalar_ap = #inf.ap<p = 0, n = 3, off = 0, dims = [[1, 1]]>} : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.activation "exp" %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %xc_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.reduce "add" %lse_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> {axes = 1 : i64} : !inf.sbuf<3x1xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.activation "log" %lse_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %lse_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]> : !inf.sbuf<3x1xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %y_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %xc_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> scalar %lse_t_1 {scalar_ap = #inf.ap<p = 0, n = 3, off = 0, dims = [[1, 1]]>} : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 3, pstride = 1, off = 15*d0, dims = [[5, 3]]>, %y_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> : !inf.dram<2x5x3xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
