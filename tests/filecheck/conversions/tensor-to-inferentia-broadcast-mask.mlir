// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A broadcast of a mask (i1) between DRAM values: its scratch holds the mask's f32 0/1
// storage like every mask, the select reads it from there.

func.func @main(%m: tensor<2x1x4xf32> {kaena.name = "m"}, %x: tensor<2x3x4xf32> {kaena.name = "x"}) -> (tensor<2x3x4xf32> {kaena.name = "y"}) {
  %c = ktensor.cast %m : (tensor<2x1x4xf32>) -> tensor<2x1x4xi1>
  %e = ktensor.broadcast %c : (tensor<2x1x4xi1>) -> tensor<2x3x4xi1>
  %y = ktensor.select %e, %x, %x : (tensor<2x3x4xi1>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return %y : tensor<2x3x4xf32>
}

// CHECK:      %t0 = inf.dram "tmp" "t0" : !inf.dram<2x1x4xf32>
// CHECK-NEXT: %t1 = inf.dram "tmp" "t1" : !inf.dram<2x3x4xf32>
// CHECK:      inf.dma %t1 <p = 0, n = 2, pstride = 12, off = 0, dims = [[3, 4], [4, 1]]>, %t0 <p = 0, n = 2, pstride = 4, off = 0, dims = [[3, 0], [4, 1]]> : !inf.dram<2x3x4xf32>, !inf.dram<2x1x4xf32>
// CHECK:      inf.dma %in0_t_1 {{.*}}, %t1 {{.*}}
// CHECK:      inf.select
