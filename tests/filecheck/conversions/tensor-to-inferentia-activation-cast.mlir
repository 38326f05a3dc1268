// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Casts are identity activations into a tile of the new dtype; 900 elements as 100 x 9.

func.func @main(%x: tensor<3x300xf32> {kaena.name = "x"}) -> (tensor<3x300xf32> {kaena.name = "y"}) {
  %c = ktensor.cast %x : (tensor<3x300xf32>) -> tensor<3x300xbf16>
  %s = ktensor.activation "sigmoid" %c : (tensor<3x300xbf16>) -> tensor<3x300xbf16>
  %y = ktensor.cast %s : (tensor<3x300xbf16>) -> tensor<3x300xf32>
  func.return %y : tensor<3x300xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<3x300xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<3x300xf32>
// CHECK-NEXT: %t0 = inf.dram "tmp" "t0" : !inf.dram<3x300xbf16>
// CHECK-NEXT: %t1 = inf.dram "tmp" "t1" : !inf.dram<3x300xbf16>
// CHECK-NEXT: %in0_t = inf.alloc : !inf.sbuf<100x9xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<100x9xbf16>
// CHECK-NEXT: inf.dma %in0_t <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %x <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xf32>, !inf.dram<3x300xf32>
// CHECK-NEXT: inf.activation "identity" %o_t <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %in0_t <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xbf16>, !inf.sbuf<100x9xf32>
// CHECK-NEXT: inf.dma %t0 <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]>, %o_t <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.dram<3x300xbf16>, !inf.sbuf<100x9xbf16>
// CHECK-NEXT: %in0_t_1 = inf.alloc : !inf.sbuf<100x9xbf16>
// CHECK-NEXT: %o_t_1 = inf.alloc : !inf.sbuf<100x9xbf16>
// CHECK-NEXT: inf.dma %in0_t_1 <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %t0 <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xbf16>, !inf.dram<3x300xbf16>
// CHECK-NEXT: inf.activation "sigmoid" %o_t_1 <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %in0_t_1 <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xbf16>, !inf.sbuf<100x9xbf16>
// CHECK-NEXT: inf.dma %t1 <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]>, %o_t_1 <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.dram<3x300xbf16>, !inf.sbuf<100x9xbf16>
// CHECK-NEXT: %in0_t_2 = inf.alloc : !inf.sbuf<100x9xbf16>
// CHECK-NEXT: %o_t_2 = inf.alloc : !inf.sbuf<100x9xf32>
// CHECK-NEXT: inf.dma %in0_t_2 <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %t1 <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xbf16>, !inf.dram<3x300xbf16>
// CHECK-NEXT: inf.activation "identity" %o_t_2 <p = 0, n = 100, off = 0, dims = [[9, 1]]>, %in0_t_2 <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.sbuf<100x9xf32>, !inf.sbuf<100x9xbf16>
// CHECK-NEXT: inf.dma %y <p = 0, n = 100, pstride = 9, off = 0, dims = [[9, 1]]>, %o_t_2 <p = 0, n = 100, off = 0, dims = [[9, 1]]> : !inf.dram<3x300xf32>, !inf.sbuf<100x9xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
