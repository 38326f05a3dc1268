// RUN: kaena-opt %s -p ktensor-plan-fused-inputs | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s --check-prefix=BANDS
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A first layer: the FP32 model input cast to BF16 feeds a 3x3 stride-2 conv folded onto (kh, c)
// partitions. The cost model prices loading its bands straight from the FP32 input (one input row
// per output row and kh: 3 x 112 of 224 rows, 4 bytes) below the cast's round trip through DRAM plus
// the BF16 band loads, so the conv does the cast (kaena.plan.fuse_input): each band is DMAed into an
// FP32 staging tile and rounded into the BF16 band tile by the vector engine; the cast emits nothing.
// A 7x7 stride-2 stem (7 x 112 rows of FP32 per 224 of input) is cheaper with the cast: not fused.
// Kernel rows 0 and 2 of the stride-2 stem read the same (odd-indexed padded) rows one band row
// apart, so ktensor-plan-conv-bands records kaena.plan.shared_rows (CostModel.band_loop prices two
// DMAs of each row once below three of the rows kh reads): staging group m (partitions from 32 m)
// holds the rows of residue m, the band tile holds kernel row kh on partitions from 32 kh (zeros and
// zero weights between), rounded from group kh mod 2 read kh div 2 rows down: rows 0 and 1 in one
// vector op (the staging layout itself), row 2 on the scalar engine.

func.func @main(%x: tensor<1x3x224x224xf32> {kaena.name = "x"}, %x7: tensor<1x3x224x224xf32> {kaena.name = "x7"}) -> (tensor<1x32x112x112xf32> {kaena.name = "y"}, tensor<1x16x112x112xf32> {kaena.name = "y7"}) {
  %w = ktensor.weight "w" : tensor<32x3x3x3xbf16>
  %w7 = ktensor.weight "w7" : tensor<16x3x7x7xbf16>
  %xb = ktensor.cast %x : (tensor<1x3x224x224xf32>) -> tensor<1x3x224x224xbf16>
  %y = ktensor.conv2d %xb, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<32x3x3x3xbf16>) -> tensor<1x32x112x112xf32>
  %x7b = ktensor.cast %x7 : (tensor<1x3x224x224xf32>) -> tensor<1x3x224x224xbf16>
  %y7 = ktensor.conv2d %x7b, %w7 {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<16x3x7x7xbf16>) -> tensor<1x16x112x112xf32>
  func.return %y, %y7 : tensor<1x32x112x112xf32>, tensor<1x16x112x112xf32>
}

// PLAN:      %y = ktensor.conv2d %xb, %w {kaena.plan.fuse_input, strides
// PLAN:      %y7 = ktensor.conv2d %x7b, %w7 {strides

// BANDS:      %y = ktensor.conv2d %xb, %w {kaena.plan.fuse_input, kaena.plan.shared_rows, kaena.plan.band_rows = 10
// BANDS:      %y7 = ktensor.conv2d %x7b, %w7 {kaena.plan.band_rows

// One DRAM copy in all, the 7x7 stem's: %x is never cast on its own.
// CHECK:      %t0 = inf.dram "tmp" "t0" : !inf.dram<1x3x224x224xbf16>
// CHECK-NOT:  inf.dram "tmp"
// CHECK:      %x_t = inf.alloc : !inf.sbuf<67x[[B:[0-9]+]]xbf16>
// CHECK:      %x_stage = inf.alloc : !inf.sbuf<35x{{[0-9]+}}xf32>
// CHECK:      %x_stage_1 = inf.alloc : !inf.sbuf<35x{{[0-9]+}}xf32>
// CHECK:      %w_t = inf.alloc : !inf.sbuf<67x96xbf16>
// CHECK:      inf.memset %w_t <p = 0, n = 67, {{.*}}value = 0.0
// CHECK:      inf.memset %x_t <p = 0, n = 67, off = 0, dims = {{\[\[}}[[B]], 1]]> {value = 0.0
// Kernel row kh's weights on partitions 32 kh.
// CHECK:      inf.dma %w_t <p = 0, n = 3,
// CHECK:      inf.dma %w_t <p = 32, n = 3,
// CHECK:      inf.dma %w_t <p = 64, n = 3,
// The first band: residue 0 (padded rows 2 j - 1; j = 0 is the top padding), residue 1 (rows 2 j), a
// row stride of 2 x 224 each.
// CHECK:      inf.dma %x_stage <p = 0, n = 3, off = 227, dims = {{\[\[}}10, 226], [224, 1]]>, %x <p = 0, n = 3, pstride = 50176, off = 224, dims = {{\[\[}}10, 448], [224, 1]]>
// CHECK:      inf.dma %x_stage <p = 32, n = 3, off = 1, dims = {{\[\[}}10, 226], [224, 1]]>, %x <p = 0, n = 3, pstride = 50176, off = 0, dims = {{\[\[}}10, 448], [224, 1]]>
// CHECK:      inf.tensor_scalar "bypass" %x_t <p = 0, n = 35, off = 0, dims = {{\[\[}}[[N:[0-9]+]], 1]]>, %x_stage <p = 0, n = 35, off = 0, dims = {{\[\[}}[[N]], 1]]>
// CHECK:      inf.activation "identity" %x_t <p = 64, n = 3, off = 0, dims = {{\[\[}}[[N]], 1]]>, %x_stage <p = 0, n = 3, off = 226, dims = {{\[\[}}[[N]], 1]]>
// CHECK:      inf.load_stationary %w_t <p = 0, n = 67,
// CHECK:      inf.matmul {{.*}}, %x_t <p = 0, n = 67,
// The 7x7 stem's bands come from the cast's BF16 copy.
// CHECK:      inf.dma %x_t_2 <p = 0, n = 3, {{.*}}>, %t0 <p = 0, n = 3,
