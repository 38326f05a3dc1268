// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A concat along the batch of NCHW values into a resident tile (a split batch's samples
// joining): a resident sample is one scalar-engine copy per channel tile into its image
// of the tile, a sample in DRAM (here a function input) one DMA; the conv then reads
// the joined tile.

func.func @main(%x: tensor<1x16x8x8xf32> {kaena.name = "x"}, %z: tensor<1x16x8x8xf32> {kaena.name = "z"}) -> (tensor<2x16x8x8xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "w" : tensor<16x16x1x1xf32>
  %p = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x8x8xf32>
  %j = ktensor.concat %p, %z {axis = 0 : i64} : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %y = ktensor.conv2d %j, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<2x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<2x16x8x8xf32>
  func.return %y : tensor<2x16x8x8xf32>
}

// CHECK:      %p_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x64xf32>
// CHECK:      %j_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x128xf32>
// CHECK-NEXT: inf.activation "identity" %j_sb <p = 0, n = 16, off = 0, dims = [[64, 1]]>, %p_sb <p = 0, n = 16, off = 0, dims = [[64, 1]]>
// CHECK-NEXT: inf.dma %j_sb <p = 0, n = 16, off = 64, dims = [[64, 1]]>, %z <p = 0, n = 16, pstride = 64, off = 0, dims = [[64, 1]]>
// CHECK:      inf.matmul {{.*}} %j_sb
