// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// In a NeuronCore Pipeline stage a dense conv whose resident result the stage sends stores
// each band of each PSUM-column tile to the output as soon as it is drained, so the send of
// one tile overlaps the next tile's matmuls (before: one DMA per channel tile after the whole
// conv, the stage's DMA queue idle until then). Here 128 outputs in two tiles of 64, one band.

builtin.module attributes {kaena.pipeline = {cores = 3 : i64}} {
  func.func @main(%x: tensor<1x64x8x8xbf16> {kaena.name = "pipe.3.x.s1"}) -> (tensor<1x128x8x8xbf16> {kaena.name = "pipe.5.c.s1"}) {
    %w = ktensor.weight "w" : tensor<128x64x1x1xbf16>
    %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xbf16>, tensor<128x64x1x1xbf16>) -> tensor<1x128x8x8xf32>
    %c = ktensor.cast %y : (tensor<1x128x8x8xf32>) -> tensor<1x128x8x8xbf16>
    func.return %c : tensor<1x128x8x8xbf16>
  }
}

// CHECK:      %c_sb = inf.alloc {kaena.resident} : !inf.sbuf<128x64xbf16>
// CHECK:      inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %x_sb
// CHECK-NEXT: inf.activation "relu" %c_sb <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>, %ps
// CHECK-NEXT: inf.dma %pipe.5.c.s1 <p = 0, n = 64, pstride = 64, off = 0, dims = [[64, 1]]>, %c_sb <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 64, off = 64, dims = [[64, 1]]>
// CHECK-NEXT: inf.matmul %ps_1
// CHECK-NEXT: inf.activation "relu" %c_sb <p = 64, n = 64, off = 0, dims = [[8, 8], [8, 1]]>, %ps_1
// CHECK-NEXT: inf.dma %pipe.5.c.s1 <p = 0, n = 64, pstride = 64, off = 4096, dims = [[64, 1]]>, %c_sb <p = 64, n = 64, off = 0, dims = [[8, 8], [8, 1]]>
// CHECK-NOT:  inf.dma
