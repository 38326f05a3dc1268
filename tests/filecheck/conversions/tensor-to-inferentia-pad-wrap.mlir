// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Pad wrap: the interior first, then border slices copied from the interior's opposite side
// (out index k reads interior index (k - before) mod n), dim by dim.

func.func @main(%x: tensor<2x3xf32> {kaena.name = "x"}) -> (tensor<2x7xf32> {kaena.name = "y"}) {
  %y = ktensor.pad "wrap" %x {pads = array<i64: 0, 1, 0, 3>} : (tensor<2x3xf32>) -> tensor<2x7xf32>
  func.return %y : tensor<2x7xf32>
}

// CHECK:      inf.dma %y <p = 0, n = 2, pstride = 7, off = 1, dims = [[3, 1]]>, %x <p = 0, n = 2, pstride = 3, off = 0, dims = [[3, 1]]>
// before: out column 0 <- column 3 (interior index 2)
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 0, dims = [[2, 7]]>, %y <p = 0, n = 1, off = 3, dims = [[2, 7]]>
// after: out columns 4, 5, 6 <- columns 1, 2, 3 (interior indices 0, 1, 2)
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 4, dims = [[2, 7]]>, %y <p = 0, n = 1, off = 1, dims = [[2, 7]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 5, dims = [[2, 7]]>, %y <p = 0, n = 1, off = 2, dims = [[2, 7]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 6, dims = [[2, 7]]>, %y <p = 0, n = 1, off = 3, dims = [[2, 7]]>
