// RUN: kaena-opt %s -p ktensor-plan-fused-inputs | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// SSD's heads: NCHW maps transposed to NHWC, reshaped and concatenated. With
// kaena.plan.fuse_transposes the concat reads each head NCHW with permuted strides straight
// into its slot (one DRAM-to-DRAM pass); the transposes and reshapes emit nothing. A plain
// operand is copied as before.

func.func @main(%h0: tensor<1x6x4x5xf32> {kaena.name = "h0"}, %p: tensor<1x3x3xf32> {kaena.name = "p"}) -> (tensor<1x43x3xf32> {kaena.name = "y"}) {
  %t0 = ktensor.transpose %h0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x6x4x5xf32>) -> tensor<1x4x5x6xf32>
  %f0 = ktensor.reshape %t0 : (tensor<1x4x5x6xf32>) -> tensor<1x40x3xf32>
  %y = ktensor.concat %p, %f0 {axis = 1 : i64} : (tensor<1x3x3xf32>, tensor<1x40x3xf32>) -> tensor<1x43x3xf32>
  func.return %y : tensor<1x43x3xf32>
}

// PLAN: ktensor.concat %p, %f0 {kaena.plan.fuse_transposes, axis = 1 : i64}

// CHECK:      %y = inf.dram "output" "y" : !inf.dram<1x43x3xf32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 0, dims = [[9, 1]]>, %p <p = 0, n = 1, off = 0, dims = [[9, 1]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 20, pstride = 6, off = 9, dims = [[6, 1]]>, %h0 <p = 0, n = 20, pstride = 1, off = 0, dims = [[6, 20]]>
// CHECK-NEXT: }
