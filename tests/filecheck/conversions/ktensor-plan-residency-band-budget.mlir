// RUN: kaena-opt %s --split-input-file -p ktensor-plan-conv-bands | filecheck %s
// RUN: kaena-opt %s --split-input-file -p convert-tensor-to-inferentia,inf-allocate-sram | filecheck %s --check-prefix=LOWER
// ktensor-plan-residency: %r (49,152 bytes per partition) would stay in SBUF from its conv to %z.
// At %y, a conv reading DRAM, %r and %y's tiles (its weights, its input band share of 24,576
// bytes, its result band) come to 100 bytes over the limit (86,016: 7/8 of a partition). Its
// bands fit in 24,476 bytes at the same modelled cost, far below %r's round trip through DRAM,
// so %y takes kaena.plan.band_budget = 24476 and %r stays; ktensor-plan-conv-bands plans %y's
// bands within it, and %z reads %r in place (no DRAM temporary).

func.func @main(%x0: tensor<1x8x64x192xf32> {kaena.name = "x0"}, %x1: tensor<1x8x16x16xf32> {kaena.name = "x1"}) -> (tensor<1x8x16x16xf32> {kaena.name = "y"}, tensor<1x16x64x192xf32> {kaena.name = "z"}) {
  %w0 = ktensor.weight "w0" : tensor<128x8x1x1xf32>
  %w = ktensor.weight "w" : tensor<8x8x3x3xf32>
  %w2 = ktensor.weight "w2" : tensor<16x128x1x1xf32>
  %r = ktensor.conv2d %x0, %w0 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x64x192xf32>, tensor<128x8x1x1xf32>) -> tensor<1x128x64x192xf32>
  %y = ktensor.conv2d %x1, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x16x16xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x16x16xf32>
  %z = ktensor.conv2d %r, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x128x64x192xf32>, tensor<16x128x1x1xf32>) -> tensor<1x16x64x192xf32>
  func.return %y, %z : tensor<1x8x16x16xf32>, tensor<1x16x64x192xf32>
}

// CHECK:      %r = ktensor.conv2d %x0, %w0 {kaena.plan.resident = array<i64: 0, 0, 0, 0>,
// CHECK-NEXT: %y = ktensor.conv2d %x1, %w {kaena.plan.band_budget = 24476 : i64, kaena.plan.band_rows = 16 : i64,
// CHECK-NEXT: %z = ktensor.conv2d %r, %w2 {kaena.plan.band_rows

// LOWER:     %r_sb = inf.alloc {kaena.resident, partition = 0 : i64, offset = {{[0-9]+}} : i64} : !inf.sbuf<128x12288xf32>
// LOWER-NOT: inf.dram "tmp"
// LOWER:     inf.matmul %ps{{.*}}, %r_sb <

// -----

// The same with %y a 3x3 conv of 64 to 512 channels over 600-column rows: %r and %y's tiles come
// to 18,464 bytes over, and one output row's input band (3 rows of 602 f32, 7,224 bytes) does not
// fit in the 6,112 its share would keep, so %r goes to DRAM and %y keeps its share.

func.func @main(%x0: tensor<1x8x64x192xf32> {kaena.name = "x0"}, %x1: tensor<1x64x8x600xf32> {kaena.name = "x1"}) -> (tensor<1x512x8x600xf32> {kaena.name = "y"}, tensor<1x16x64x192xf32> {kaena.name = "z"}) {
  %w0 = ktensor.weight "w0" : tensor<128x8x1x1xf32>
  %w = ktensor.weight "w" : tensor<512x64x3x3xf32>
  %w2 = ktensor.weight "w2" : tensor<16x128x1x1xf32>
  %r = ktensor.conv2d %x0, %w0 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x64x192xf32>, tensor<128x8x1x1xf32>) -> tensor<1x128x64x192xf32>
  %y = ktensor.conv2d %x1, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x600xf32>, tensor<512x64x3x3xf32>) -> tensor<1x512x8x600xf32>
  %z = ktensor.conv2d %r, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x128x64x192xf32>, tensor<16x128x1x1xf32>) -> tensor<1x16x64x192xf32>
  func.return %y, %z : tensor<1x512x8x600xf32>, tensor<1x16x64x192xf32>
}

// CHECK:      %r = ktensor.conv2d %x0, %w0 {kaena.plan.band_rows
// CHECK-NEXT: %y = ktensor.conv2d %x1, %w {kaena.plan.band_rows
// CHECK-NOT:  kaena.plan.band_budget
// CHECK:      func.return

// LOWER:     %t0 = inf.dram "tmp" "t0" : !inf.dram<1x128x64x192xf32>
