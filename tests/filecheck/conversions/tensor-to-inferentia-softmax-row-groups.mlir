// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A softmax over a short last axis: kaena.plan.row_group consecutive rows per partition, one DMA
// for 128 x G rows (contiguous per partition), the per-row max and 1/sum broadcast along each
// row with a stride-0 operand; the rows left over go one per partition.

func.func @main(%x: tensor<1x300x5xf32> {kaena.name = "x"}) -> (tensor<1x300x5xf32> {kaena.name = "y"}) {
  %y = ktensor.softmax %x {axis = 2 : i64} : (tensor<1x300x5xf32>) -> tensor<1x300x5xf32>
  func.return %y : tensor<1x300x5xf32>
}

// PLAN: ktensor.softmax %x {kaena.plan.row_group = 2 : i64, axis = 2 : i64}

// CHECK:      %x_t = inf.alloc : !inf.sbuf<128x10xf32>
// CHECK-NEXT: %e_t = inf.alloc : !inf.sbuf<128x10xf32>
// CHECK-NEXT: %max_t = inf.alloc : !inf.sbuf<128x2xf32>
// CHECK-NEXT: %sum_t = inf.alloc : !inf.sbuf<128x2xf32>
// CHECK-NEXT: %y_t = inf.alloc : !inf.sbuf<128x10xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 128, off = 0, dims = [[10, 1]]>, %x <p = 0, n = 128, pstride = 10, off = 0, dims = [[10, 1]]>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 128, off = 0, dims = [[2, 1]]>, %x_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]> {axes = 1 : i64}
// CHECK-NEXT: inf.tensor_tensor "sub" %e_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]>, %x_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]>, %max_t <p = 0, n = 128, off = 0, dims = [[2, 1], [5, 0]]>
// CHECK-NEXT: inf.activation "exp" %e_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]>, %e_t
// CHECK-NEXT: inf.reduce "add" %sum_t <p = 0, n = 128, off = 0, dims = [[2, 1]]>, %e_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]> {axes = 1 : i64}
// CHECK-NEXT: inf.activation "reciprocal" %sum_t <p = 0, n = 128, off = 0, dims = [[2, 1]]>, %sum_t
// CHECK-NEXT: inf.tensor_tensor "mul" %y_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]>, %e_t <p = 0, n = 128, off = 0, dims = [[2, 5], [5, 1]]>, %sum_t <p = 0, n = 128, off = 0, dims = [[2, 1], [5, 0]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 128, pstride = 10, off = 0, dims = [[10, 1]]>, %y_t <p = 0, n = 128, off = 0, dims = [[10, 1]]>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 44, off = 0, dims = [[5, 1]]>, %x <p = 0, n = 44, pstride = 5, off = 1280, dims = [[5, 1]]>
// CHECK-NEXT: inf.reduce "max" %max_t <p = 0, n = 44, off = 0, dims = [[1, 1]]>, %x_t <p = 0, n = 44, off = 0, dims = [[5, 1]]> {axes = 1 : i64}
// CHECK-NEXT: inf.tensor_scalar "sub" %e_t <p = 0, n = 44, off = 0, dims = [[5, 1]]>, %x_t <p = 0, n = 44, off = 0, dims = [[5, 1]]> scalar %max_t
// CHECK:      inf.tensor_scalar "mul" %y_t <p = 0, n = 44, off = 0, dims = [[5, 1]]>, %e_t <p = 0, n = 44, off = 0, dims = [[5, 1]]> scalar %sum_t
// CHECK-NEXT: inf.dma %y <p = 0, n = 44, pstride = 5, off = 1280, dims = [[5, 1]]>, %y_t <p = 0, n = 44, off = 0, dims = [[5, 1]]>
// CHECK-NEXT: }
