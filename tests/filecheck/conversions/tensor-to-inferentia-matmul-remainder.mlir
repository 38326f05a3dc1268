// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// K = 257 splits into tiles of 86, 86, 85: the last K tile is peeled out of the loop and
// keeps accumulating (accumulate = 2); without a bias the activation has no bias operand. The
// weights in one DMA (kaena.plan.weight_blocks = 1 forced; tensor-to-inferentia-matmul-weight-blocks
// streams them).

func.func @main(%x: tensor<3x257xf32> {kaena.name = "x"}) -> (tensor<3x100xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<257x100xf32>
  %y = ktensor.matmul %x, %w {kaena.plan.weight_blocks = 1 : i64, activation = "none"} : (tensor<3x257xf32>, tensor<257x100xf32>) -> tensor<3x100xf32>
  func.return %y : tensor<3x100xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<3x257xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<3x100xf32>
// CHECK-NEXT: %w = inf.dram "file" "w" : !inf.dram<257x100xf32>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<86x300xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<86x9xf32>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<50x3xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<50x6xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 86, off = 0, dims = [[200, 1]]>, %w <p = 0, n = 86, pstride = 100, off = 0, dims = [[2, 8600], [100, 1]]> : !inf.sbuf<86x300xf32>, !inf.dram<257x100xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 85, off = 200, dims = [[100, 1]]>, %w <p = 0, n = 85, pstride = 100, off = 17200, dims = [[100, 1]]> : !inf.sbuf<86x300xf32>, !inf.dram<257x100xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 86, off = 0, dims = [[6, 1]]>, %x <p = 0, n = 86, pstride = 1, off = 0, dims = [[2, 86], [3, 257]]> : !inf.sbuf<86x9xf32>, !inf.dram<3x257xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 85, off = 6, dims = [[3, 1]]>, %x <p = 0, n = 85, pstride = 1, off = 172, dims = [[3, 257]]> : !inf.sbuf<86x9xf32>, !inf.dram<3x257xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 86, off = 50*d0 + 100*d1, dims = [[50, 1]]> : !inf.sbuf<86x300xf32>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 50, off = 0, dims = [[3, 1]]>, %x_t <p = 0, n = 86, off = 3*d1, dims = [[3, 1]]> {accumulate = #inf.expr<1*d1>} : !inf.psum<50x3xf32>, !inf.sbuf<86x9xf32>
// CHECK-NEXT: }
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 85, off = 200 + 50*d0, dims = [[50, 1]]> : !inf.sbuf<86x300xf32>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 50, off = 0, dims = [[3, 1]]>, %x_t <p = 0, n = 85, off = 6, dims = [[3, 1]]> {accumulate = #inf.expr<2>} : !inf.psum<50x3xf32>, !inf.sbuf<86x9xf32>
// CHECK-NEXT: inf.activation "identity" %o_t <p = 0, n = 50, off = 3*d0, dims = [[3, 1]]>, %ps <p = 0, n = 50, off = 0, dims = [[3, 1]]> : !inf.sbuf<50x6xf32>, !inf.psum<50x3xf32>
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %y <p = 0, n = 50, pstride = 1, off = 0, dims = [[2, 50], [3, 100]]>, %o_t <p = 0, n = 50, off = 0, dims = [[6, 1]]> : !inf.dram<3x100xf32>, !inf.sbuf<50x6xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
