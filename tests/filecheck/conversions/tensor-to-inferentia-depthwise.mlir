// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Depthwise conv2d (groups = channels) on the vector engine: channels on partitions, per tap one
// multiply by the per-partition weight and one add; fused relu6 = relu then a vector min 6.

func.func @main(%x: tensor<1x4x8x8xf32> {kaena.name = "x"}) -> (tensor<1x4x4x4xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "dw" : tensor<4x1x3x3xf32>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64, activation = "relu6"} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<1x4x8x8xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x4x4x4xf32>
// CHECK-NEXT: %dw = inf.dram "file" "dw" : !inf.dram<4x1x3x3xf32>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<4x90xf32>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<4x9xf32>
// CHECK-NEXT: %acc = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %tmp = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 4, off = 0, dims = [[9, 1]]>, %dw <p = 0, n = 4, pstride = 9, off = 0, dims = [[9, 1]]> : !inf.sbuf<4x9xf32>, !inf.dram<4x1x3x3xf32>
// CHECK-NEXT: inf.memset %x_t <p = 0, n = 4, off = 0, dims = [[90, 1]]> {value = 0.000000e+00 : f32} : !inf.sbuf<4x90xf32>
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 4, off = 11, dims = [[8, 10], [8, 1]]>, %x <p = 0, n = 4, pstride = 64, off = 0, dims = [[64, 1]]> : !inf.sbuf<4x90xf32>, !inf.dram<1x4x8x8xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 0, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 1, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 1, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 2, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 2, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 10, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 3, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 11, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 4, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 12, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 5, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 20, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 6, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 21, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 7, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %x_t <p = 0, n = 4, off = 22, dims = [[4, 20], [4, 2]]> scalar %w_t {scalar_ap = #inf.ap<p = 0, n = 4, off = 8, dims = [[1, 1]]>} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x90xf32>, !inf.sbuf<4x9xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %tmp <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %acc <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "min" %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]> {imm = 6.000000e+00 : f32} : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]>, %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.dram<1x4x4x4xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
