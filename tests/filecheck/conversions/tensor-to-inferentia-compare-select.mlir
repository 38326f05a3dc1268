// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Masks are stored as f32 0.0/1.0: the comparison writes them (the [4, 1] operand
// broadcast by a stride-0 pattern), logical_not is "== 0", select copies on_false
// into the result tile (bypass) and lets inf.select overwrite it with on_true.

func.func @main(%a: tensor<4x16xf32> {kaena.name = "a"}, %b: tensor<4x1xf32> {kaena.name = "b"}) -> (tensor<4x16xf32> {kaena.name = "y"}) {
  %c = ktensor.compare "less" %a, %b : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xi1>
  %n = ktensor.logical_not %c : (tensor<4x16xi1>) -> tensor<4x16xi1>
  %y = ktensor.select %n, %a, %b : (tensor<4x16xi1>, tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  func.return %y : tensor<4x16xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %a = inf.dram "input" "a" : !inf.dram<4x16xf32>
// CHECK-NEXT: %b = inf.dram "input" "b" : !inf.dram<4x1xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<4x16xf32>
// CHECK-NEXT: %t0 = inf.dram "tmp" "t0" : !inf.dram<4x16xf32>
// CHECK-NEXT: %t1 = inf.dram "tmp" "t1" : !inf.dram<4x16xf32>
// CHECK-NEXT: %in0_t = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %in1_t = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %in0_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.dram<4x16xf32>
// CHECK-NEXT: inf.dma %in1_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %b <p = 0, n = 4, pstride = 1, off = 0, dims = [[16, 0]]> : !inf.sbuf<4x16xf32>, !inf.dram<4x1xf32>
// CHECK-NEXT: inf.tensor_tensor "less" %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %in0_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %in1_t <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %t0 <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]>, %o_t <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.dram<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: %in0_t_1 = inf.alloc : !inf.sbuf<64x1xf32>
// CHECK-NEXT: %o_t_1 = inf.alloc : !inf.sbuf<64x1xf32>
// CHECK-NEXT: inf.dma %in0_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %t0 <p = 0, n = 64, pstride = 1, off = 0, dims = [[1, 1]]> : !inf.sbuf<64x1xf32>, !inf.dram<4x16xf32>
// CHECK-NEXT: inf.tensor_scalar "equal" %o_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = 0.000000e+00 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK-NEXT: inf.dma %t1 <p = 0, n = 64, pstride = 1, off = 0, dims = [[1, 1]]>, %o_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]> : !inf.dram<4x16xf32>, !inf.sbuf<64x1xf32>
// CHECK-NEXT: %in0_t_2 = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %in1_t_1 = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %in2_t = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: %o_t_2 = inf.alloc : !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %in0_t_2 <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %t1 <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.dram<4x16xf32>
// CHECK-NEXT: inf.dma %in1_t_1 <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.dram<4x16xf32>
// CHECK-NEXT: inf.dma %in2_t <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %b <p = 0, n = 4, pstride = 1, off = 0, dims = [[16, 0]]> : !inf.sbuf<4x16xf32>, !inf.dram<4x1xf32>
// CHECK-NEXT: inf.tensor_scalar "bypass" %o_t_2 <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %in2_t <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.select %o_t_2 <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %in0_t_2 <p = 0, n = 4, off = 0, dims = [[16, 1]]>, %in1_t_1 <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 4, pstride = 16, off = 0, dims = [[16, 1]]>, %o_t_2 <p = 0, n = 4, off = 0, dims = [[16, 1]]> : !inf.dram<4x16xf32>, !inf.sbuf<4x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
