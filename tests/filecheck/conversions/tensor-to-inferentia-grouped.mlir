// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Grouped conv2d (groups = 2, 4 channels per group) on the PE array: one conv per group, weights and
// outputs offset by the group.

func.func @main(%x: tensor<1x8x6x6xf32> {kaena.name = "x"}) -> (tensor<1x6x6x6xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<6x4x1x1xf32>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64, activation = "none"} : (tensor<1x8x6x6xf32>, tensor<6x4x1x1xf32>) -> tensor<1x6x6x6xf32>
  func.return %y : tensor<1x6x6x6xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x8x6x6xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x6x6x6xf32>
// CHECK-NEXT: %w = inf.dram "file" "w" : !inf.dram<6x4x1x1xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x36xf32>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<4x3xf32>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<3x36xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<3x36xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 4, off = 0, dims = [[3, 1]]>, %w <p = 0, n = 4, pstride = 1, off = 0, dims = [[3, 4]]> : !inf.sbuf<4x3xf32>, !inf.dram<6x4x1x1xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 0, dims = [[6, 6], [6, 1]]>, %x <p = 0, n = 4, pstride = 36, off = 0, dims = [[36, 1]]> : !inf.sbuf<4x36xf32>, !inf.dram<1x8x6x6xf32>
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 4, off = 0, dims = [[3, 1]]> : !inf.sbuf<4x3xf32>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 3, off = 0, dims = [[36, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[6, 6], [6, 1]]> : !inf.psum<3x36xf32>, !inf.sbuf<4x36xf32>
// CHECK-NEXT: inf.activation "identity" %o_t <p = 0, n = 3, off = 0, dims = [[6, 6], [6, 1]]>, %ps <p = 0, n = 3, off = 0, dims = [[36, 1]]> : !inf.sbuf<3x36xf32>, !inf.psum<3x36xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 3, pstride = 36, off = 0, dims = [[36, 1]]>, %o_t <p = 0, n = 3, off = 0, dims = [[36, 1]]> : !inf.dram<1x6x6x6xf32>, !inf.sbuf<3x36xf32>
// CHECK-NEXT: %x_t_1 = inf.alloc : !inf.sbuf<4x36xf32>
// CHECK-NEXT: %w_t_1 = inf.alloc : !inf.sbuf<4x3xf32>
// CHECK-NEXT: %ps_1 = inf.alloc : !inf.psum<3x36xf32>
// CHECK-NEXT: %o_t_1 = inf.alloc : !inf.sbuf<3x36xf32>
// CHECK-NEXT: inf.dma %w_t_1 <p = 0, n = 4, off = 0, dims = [[3, 1]]>, %w <p = 0, n = 4, pstride = 1, off = 12, dims = [[3, 4]]> : !inf.sbuf<4x3xf32>, !inf.dram<6x4x1x1xf32>
// CHECK-NEXT: inf.dma %x_t_1 <p = 0, n = 4, off = 0, dims = [[6, 6], [6, 1]]>, %x <p = 0, n = 4, pstride = 36, off = 144, dims = [[36, 1]]> : !inf.sbuf<4x36xf32>, !inf.dram<1x8x6x6xf32>
// CHECK-NEXT: inf.load_stationary %w_t_1 <p = 0, n = 4, off = 0, dims = [[3, 1]]> : !inf.sbuf<4x3xf32>
// CHECK-NEXT: inf.matmul %ps_1 <p = 0, n = 3, off = 0, dims = [[36, 1]]>, %x_t_1 <p = 0, n = 4, off = 0, dims = [[6, 6], [6, 1]]> : !inf.psum<3x36xf32>, !inf.sbuf<4x36xf32>
// CHECK-NEXT: inf.activation "identity" %o_t_1 <p = 0, n = 3, off = 0, dims = [[6, 6], [6, 1]]>, %ps_1 <p = 0, n = 3, off = 0, dims = [[36, 1]]> : !inf.sbuf<3x36xf32>, !inf.psum<3x36xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 3, pstride = 36, off = 108, dims = [[36, 1]]>, %o_t_1 <p = 0, n = 3, off = 0, dims = [[36, 1]]> : !inf.dram<1x6x6x6xf32>, !inf.sbuf<3x36xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
