// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// One inf.loop over the flattened batch (B x heads); per index rhs[b] is the stationary [K, N], lhs[b]^T the moving [K, M] (a strided DMA), PSUM drained by the scalar engine, out^T written back transposed.

func.func @main(%a: tensor<2x3x5x4xf32> {kaena.name = "a"}, %b: tensor<2x3x4x6xf32> {kaena.name = "b"}) -> (tensor<2x3x5x6xf32> {kaena.name = "y"}) {
  %y = ktensor.batch_matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : (tensor<2x3x5x4xf32>, tensor<2x3x4x6xf32>) -> tensor<2x3x5x6xf32>
  func.return %y : tensor<2x3x5x6xf32>
}

// CHECK:      %w_t = inf.alloc : !inf.sbuf<4x6xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x5xf32>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<6x5xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<6x5xf32>
// CHECK-NEXT: inf.loop 6 {
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 4, off = 0, dims = [[6, 1]]>, %b <p = 0, n = 4, pstride = 6, off = 24*d0, dims = [[6, 1]]> : !inf.sbuf<4x6xf32>, !inf.dram<2x3x4x6xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 0, dims = [[5, 1]]>, %a <p = 0, n = 4, pstride = 1, off = 20*d0, dims = [[5, 4]]> : !inf.sbuf<4x5xf32>, !inf.dram<2x3x5x4xf32>
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 4, off = 0, dims = [[6, 1]]> : !inf.sbuf<4x6xf32>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 6, off = 0, dims = [[5, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[5, 1]]> : !inf.psum<6x5xf32>, !inf.sbuf<4x5xf32>
// CHECK-NEXT: inf.activation "identity" %o_t <p = 0, n = 6, off = 0, dims = [[5, 1]]>, %ps <p = 0, n = 6, off = 0, dims = [[5, 1]]> : !inf.sbuf<6x5xf32>, !inf.psum<6x5xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 6, pstride = 1, off = 30*d0, dims = [[5, 6]]>, %o_t <p = 0, n = 6, off = 0, dims = [[5, 1]]> : !inf.dram<2x3x5x6xf32>, !inf.sbuf<6x5xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
