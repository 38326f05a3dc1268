// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Elementwise: broadcast operands are read with stride-0 DRAM access patterns; the fused
// activation runs in place; same-shape operands are streamed as flat [partitions, free] chunks.

func.func @main(%a: tensor<2x130x4x4xf32> {kaena.name = "a"}, %b: tensor<1x130x1x1xf32> {kaena.name = "b"}, %c: tensor<4x1000xf32> {kaena.name = "c"}) -> (tensor<2x130x4x4xf32> {kaena.name = "y"}, tensor<4x1000xf32> {kaena.name = "z"}) {
  %y = ktensor.elementwise "mul" %a, %b {activation = "relu"} : (tensor<2x130x4x4xf32>, tensor<1x130x1x1xf32>) -> tensor<2x130x4x4xf32>
  %z = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x1000xf32>, tensor<4x1000xf32>) -> tensor<4x1000xf32>
  func.return %y, %z : tensor<2x130x4x4xf32>, tensor<4x1000xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %a = inf.dram "input" "a" : !inf.dram<2x130x4x4xf32>
// CHECK-NEXT: %b = inf.dram "input" "b" : !inf.dram<1x130x1x1xf32>
// CHECK-NEXT: %c = inf.dram "input" "c" : !inf.dram<4x1000xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<2x130x4x4xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<4x1000xf32>
// CHECK-NEXT: %in0_t = inf.alloc : !inf.sbuf<65x16xf32>
// CHECK-NEXT: %in1_t = inf.alloc : !inf.sbuf<65x16xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<65x16xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %in0_t <p = 0, n = 65, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 65, pstride = 16, off = 2080*d0 + 1040*d1, dims = [[16, 1]]> : !inf.sbuf<65x16xf32>, !inf.dram<2x130x4x4xf32>
// CHECK-NEXT: inf.dma %in1_t <p = 0, n = 65, off = 0, dims = [[16, 1]]>, %b <p = 0, n = 65, pstride = 1, off = 65*d1, dims = [[16, 0]]> : !inf.sbuf<65x16xf32>, !inf.dram<1x130x1x1xf32>
// CHECK-NEXT: inf.tensor_tensor "mul" %o_t <p = 0, n = 65, off = 0, dims = [[16, 1]]>, %in0_t <p = 0, n = 65, off = 0, dims = [[16, 1]]>, %in1_t <p = 0, n = 65, off = 0, dims = [[16, 1]]> : !inf.sbuf<65x16xf32>, !inf.sbuf<65x16xf32>, !inf.sbuf<65x16xf32>
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 65, off = 0, dims = [[16, 1]]>, %o_t <p = 0, n = 65, off = 0, dims = [[16, 1]]> : !inf.sbuf<65x16xf32>, !inf.sbuf<65x16xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 65, pstride = 16, off = 2080*d0 + 1040*d1, dims = [[16, 1]]>, %o_t <p = 0, n = 65, off = 0, dims = [[16, 1]]> : !inf.dram<2x130x4x4xf32>, !inf.sbuf<65x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: %in0_t_1 = inf.alloc : !inf.sbuf<125x32xf32>
// CHECK-NEXT: %in1_t_1 = inf.alloc : !inf.sbuf<125x32xf32>
// CHECK-NEXT: %o_t_1 = inf.alloc : !inf.sbuf<125x32xf32>
// CHECK-NEXT: inf.dma %in0_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]>, %c <p = 0, n = 125, pstride = 32, off = 0, dims = [[32, 1]]> : !inf.sbuf<125x32xf32>, !inf.dram<4x1000xf32>
// CHECK-NEXT: inf.dma %in1_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]>, %c <p = 0, n = 125, pstride = 32, off = 0, dims = [[32, 1]]> : !inf.sbuf<125x32xf32>, !inf.dram<4x1000xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %o_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]>, %in0_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]>, %in1_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]> : !inf.sbuf<125x32xf32>, !inf.sbuf<125x32xf32>, !inf.sbuf<125x32xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 125, pstride = 32, off = 0, dims = [[32, 1]]>, %o_t_1 <p = 0, n = 125, off = 0, dims = [[32, 1]]> : !inf.dram<4x1000xf32>, !inf.sbuf<125x32xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
