// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A matmul tiled onto the PE array: K = 384 (3 tiles of 128 rows), N = 192 (3 output-partition
// tiles of 64), M = 600 (3 moving tiles of 200): one loop nest, PSUM accumulating over the K loop,
// bias per output partition fused into the activation, weights loaded once.

builtin.module attributes {kaena.model_name = "mm"} {
  func.func @main(%x: tensor<600x384xbf16> {kaena.name = "x"}) -> (tensor<600x192xf32> {kaena.name = "y"}) {
    %w = ktensor.weight "fc.w" : tensor<384x192xbf16>
    %b = ktensor.weight "fc.b" : tensor<192xf32>
    %y = ktensor.matmul %x, %w bias %b {activation = "relu"} : (tensor<600x384xbf16>, tensor<384x192xbf16>, tensor<192xf32>) -> tensor<600x192xf32>
    func.return %y : tensor<600x192xf32>
  }
}

// CHECK:      builtin.module attributes {kaena.model_name = "mm"} {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %x = inf.dram "input" "x" : !inf.dram<600x384xbf16>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<600x192xf32>
// CHECK-NEXT: %fc.w = inf.dram "file" "fc.w" : !inf.dram<384x192xbf16>
// CHECK-NEXT: %fc.b = inf.dram "file" "fc.b" : !inf.dram<192xf32>
// CHECK-NEXT: %w_t = inf.alloc : !inf.sbuf<128x576xbf16>
// CHECK-NEXT: %x_t = inf.alloc : !inf.sbuf<128x600xbf16>
// CHECK-NEXT: %ps = inf.alloc : !inf.psum<64x200xf32>
// CHECK-NEXT: %o_t = inf.alloc : !inf.sbuf<64x600xf32>
// CHECK-NEXT: %b_t = inf.alloc : !inf.sbuf<64x3xf32>
// CHECK-NEXT: inf.dma %w_t <p = 0, n = 128, off = 0, dims = [[576, 1]]>, %fc.w <p = 0, n = 128, pstride = 192, off = 0, dims = [[3, 24576], [192, 1]]> : !inf.sbuf<128x576xbf16>, !inf.dram<384x192xbf16>
// CHECK-NEXT: inf.dma %b_t <p = 0, n = 64, off = 0, dims = [[3, 1]]>, %fc.b <p = 0, n = 64, pstride = 1, off = 0, dims = [[3, 64]]> : !inf.sbuf<64x3xf32>, !inf.dram<192xf32>
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.dma %x_t <p = 0, n = 128, off = 0, dims = [[600, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 76800*d0, dims = [[3, 128], [200, 384]]> : !inf.sbuf<128x600xbf16>, !inf.dram<600x384xbf16>
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.loop 3 {
// CHECK-NEXT: inf.load_stationary %w_t <p = 0, n = 128, off = 64*d1 + 192*d2, dims = [[64, 1]]> : !inf.sbuf<128x576xbf16>
// CHECK-NEXT: inf.matmul %ps <p = 0, n = 64, off = 0, dims = [[200, 1]]>, %x_t <p = 0, n = 128, off = 200*d2, dims = [[200, 1]]> {accumulate = #inf.expr<1*d2>} : !inf.psum<64x200xf32>, !inf.sbuf<128x600xbf16>
// CHECK-NEXT: }
// CHECK-NEXT: inf.activation "relu" %o_t <p = 0, n = 64, off = 200*d1, dims = [[200, 1]]>, %ps <p = 0, n = 64, off = 0, dims = [[200, 1]]> bias %b_t {bias_ap = #inf.ap<p = 0, n = 64, off = 1*d1, dims = [[1, 1]]>} : !inf.sbuf<64x600xf32>, !inf.psum<64x200xf32>, !inf.sbuf<64x3xf32>
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %y <p = 0, n = 64, pstride = 1, off = 38400*d0, dims = [[3, 64], [200, 192]]>, %o_t <p = 0, n = 64, off = 0, dims = [[600, 1]]> : !inf.dram<600x192xf32>, !inf.sbuf<64x600xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
