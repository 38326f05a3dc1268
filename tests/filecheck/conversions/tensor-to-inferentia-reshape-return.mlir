// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Reshapes are free: a computed result is written straight into the output variable through
// a reshape; an argument returned (reshaped or not) is copied DRAM -> DRAM.

func.func @main(%x: tensor<2x6xf32> {kaena.name = "x"}) -> (tensor<3x4xf32> {kaena.name = "y"}, tensor<12xf32> {kaena.name = "z"}, tensor<2x6xf32> {kaena.name = "same"}) {
  %r = ktensor.activation "relu" %x : (tensor<2x6xf32>) -> tensor<2x6xf32>
  %y = ktensor.reshape %r : (tensor<2x6xf32>) -> tensor<3x4xf32>
  %z = ktensor.reshape %x : (tensor<2x6xf32>) -> tensor<12xf32>
  func.return %y, %z, %x : tensor<3x4xf32>, tensor<12xf32>, tensor<2x6xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<2x6xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<3x4xf32>
// CHECK-NEXT: %z = inf.dram "output" "z" : !inf.dram<12xf32>
// CHECK-NEXT: %same = inf.dram "output" "same" : !inf.dram<2x6xf32>
// CHECK-NEXT: %in0_t = inf.alloc : !inf.sbuf<12x1xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<12x1xf32>
// CHECK-NEXT: inf.dma %in0_t <p = 0, n = 12, off = 0, dims = [[1, 1]]>, %x <p = 0, n = 12, pstride = 1, off = 0, dims = [[1, 1]]> : !inf.sbuf<12x1xf32>, !inf.dram<2x6xf32>
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 12, off = 0, dims = [[1, 1]]>, %in0_t <p = 0, n = 12, off = 0, dims = [[1, 1]]> : !inf.sbuf<12x1xf32>, !inf.sbuf<12x1xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 12, pstride = 1, off = 0, dims = [[1, 1]]>, %o_t <p = 0, n = 12, off = 0, dims = [[1, 1]]> : !inf.dram<3x4xf32>, !inf.sbuf<12x1xf32>
// CHECK-NEXT: inf.dma %z <p = 0, n = 1, off = 0, dims = [[12, 1]]>, %x <p = 0, n = 1, off = 0, dims = [[12, 1]]> : !inf.dram<12xf32>, !inf.dram<2x6xf32>
// CHECK-NEXT: inf.dma %same <p = 0, n = 1, off = 0, dims = [[12, 1]]>, %x <p = 0, n = 1, off = 0, dims = [[12, 1]]> : !inf.dram<2x6xf32>, !inf.dram<2x6xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
