// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Softmax rows on partitions; when the axis is not last it is read with a strided access pattern.

func.func @main(%x: tensor<4x10xf32> {kaena.name = "x"}, %v: tensor<2x5x3xf32> {kaena.name = "v"}) -> (tensor<4x10xf32> {kaena.name = "y"}, tensor<2x5x3xf32> {kaena.name = "z"}) {
  %y = ktensor.softmax %x {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %z = ktensor.softmax %v {axis = 1 : i64} : (tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  func.return %y, %z : tensor<4x10xf32>, tensor<2x5x3xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<4x10xf32>
// CHECK-NEXT: %v = inf.dram "input" "v" : !inf.dram<2x5x3xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<4x10xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<2x5x3xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: %e_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: %max_t = inf.alloc : !inf.sbuf<4x1xf32>
// CHECK-NEXT: %sum_t = inf.alloc : !inf.sbuf<4x1xf32>
// CHECK-NEXT: %y_t = inf.alloc : !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %x <p = 0, n = 4, pstride = 10, off = 0, dims = [[10, 1]]> : !inf.sbuf<4x10xf32>, !inf.dram<4x10xf32>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> {axes = 1 : i64} : !inf.sbuf<4x1xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> scalar %max_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.activation "exp" %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.reduce "add" %sum_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> {axes = 1 : i64} : !inf.sbuf<4x1xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: inf.activation "reciprocal" %sum_t <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %sum_t <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x1xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %y_t <p = 0, n = 4, off = 0, dims = [[10, 1]]>, %e_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> scalar %sum_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x10xf32>, !inf.sbuf<4x10xf32>, !inf.sbuf<4x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 4, pstride = 10, off = 0, dims = [[10, 1]]>, %y_t <p = 0, n = 4, off = 0, dims = [[10, 1]]> : !inf.dram<4x10xf32>, !inf.sbuf<4x10xf32>
// CHECK-NEXT: %x_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: %e_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: %max_t_1 = inf.alloc : !inf.sbuf<3x1xf32>
// CHECK-NEXT: %sum_t_1 = inf.alloc : !inf.sbuf<3x1xf32>
// CHECK-NEXT: %y_t_1 = inf.alloc : !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %v <p = 0, n = 3, pstride = 1, off = 15*d0, dims = [[5, 3]]> : !inf.sbuf<3x5xf32>, !inf.dram<2x5x3xf32>
// CHECK-NEXT: inf.reduce "max" %max_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> {axes = 1 : i64} : !inf.sbuf<3x1xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.tensor_scalar "sub" %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %x_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> scalar %max_t_1 {scalar_ap = #inf.ap<p = 0, n = 3, off = 0, dims = [[1, 1]]>} : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.activation "exp" %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.reduce "add" %sum_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> {axes = 1 : i64} : !inf.sbuf<3x1xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: inf.activation "reciprocal" %sum_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]>, %sum_t_1 <p = 0, n = 3, off = 0, dims = [[1, 1]]> : !inf.sbuf<3x1xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %y_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]>, %e_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> scalar %sum_t_1 {scalar_ap = #inf.ap<p = 0, n = 3, off = 0, dims = [[1, 1]]>} : !inf.sbuf<3x5xf32>, !inf.sbuf<3x5xf32>, !inf.sbuf<3x1xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 3, pstride = 1, off = 15*d0, dims = [[5, 3]]>, %y_t_1 <p = 0, n = 3, off = 0, dims = [[5, 1]]> : !inf.dram<2x5x3xf32>, !inf.sbuf<3x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
