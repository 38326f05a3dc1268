// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Average pooling with count_include_pad = 0: the divisor is the in-bounds count, computed by pooling
// a 0/1 mask of the same band, reciprocal on the scalar engine, then a vector multiply.

func.func @main(%x: tensor<1x4x5x5xf32> {kaena.name = "x"}) -> (tensor<1x4x3x3xf32> {kaena.name = "y"}) {
  %y = ktensor.pool2d "avg" %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x4x3x3xf32>
  func.return %y : tensor<1x4x3x3xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x4x5x5xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x4x3x3xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x49xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<4x9xf32>
// CHECK-NEXT: %mask_t = inf.alloc : !inf.sbuf<4x49xf32>
// CHECK-NEXT: %rcount_t = inf.alloc : !inf.sbuf<4x9xf32>
// CHECK-NEXT: %sum_t = inf.alloc : !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.memset %x_t <p = 0, n = 4, off = 0, dims = [[49, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<4x49xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 8, dims = [[5, 7], [5, 1]]>, %x <p = 0, n = 4, pstride = 25, off = 0, dims = [[25, 1]]> : !inf.sbuf<4x49xf32>, !inf.dram<1x4x5x5xf32>
// CHECK-NEXT: inf.memset %mask_t <p = 0, n = 4, off = 0, dims = [[49, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<4x49xf32>
// CHECK-NEXT: inf.memset %mask_t <p = 0, n = 4, off = 8, dims = [[5, 7], [5, 1]]> {value = 1.000000e+00 : f32} : !inf.sbuf<4x49xf32>
// CHECK-NEXT: inf.reduce "add" %rcount_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %mask_t <p = 0, n = 4, off = 0, dims = [[3, 14], [3, 2], [3, 7], [3, 1]]> {axes = 2 : i64} : !inf.sbuf<4x9xf32>, !inf.sbuf<4x49xf32>
// CHECK-NEXT: inf.activation "reciprocal" %rcount_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %rcount_t <p = 0, n = 4, off = 0, dims = [[9, 1]]> : !inf.sbuf<4x9xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.reduce "add" %sum_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[3, 14], [3, 2], [3, 7], [3, 1]]> {axes = 2 : i64} : !inf.sbuf<4x9xf32>, !inf.sbuf<4x49xf32>
// CHECK-NEXT: inf.tensor_tensor "mul" %o_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %sum_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %rcount_t <p = 0, n = 4, off = 0, dims = [[9, 1]]> : !inf.sbuf<4x9xf32>, !inf.sbuf<4x9xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 4, pstride = 9, off = 0, dims = [[9, 1]]>, %o_t <p = 0, n = 4, off = 0, dims = [[9, 1]]> : !inf.dram<1x4x3x3xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
