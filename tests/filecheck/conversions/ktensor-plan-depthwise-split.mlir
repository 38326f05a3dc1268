// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s
// ktensor-plan-conv-bands (after the residency plan) splits a BF16 depthwise conv on the PE array
// whose input and result stay resident by output rows: kaena.plan.vector_rows, the last rows that
// CostModel.depthwise_split gives the vector engine so that both engines finish together. %z reads a
// function argument (DRAM): no split. The FP32 one runs on the vector engine alone: no split either.

func.func @main(%x: tensor<1x32x28x28xbf16> {kaena.name = "x"}, %xf: tensor<1x32x28x28xf32> {kaena.name = "xf"}) -> (tensor<1x8x28x28xf32> {kaena.name = "y"}, tensor<1x32x28x28xf32> {kaena.name = "z"}, tensor<1x32x28x28xf32> {kaena.name = "zf"}) {
  %w1 = ktensor.weight "w1" : tensor<32x32x1x1xbf16>
  %wd = ktensor.weight "wd" : tensor<32x1x3x3xbf16>
  %wdf = ktensor.weight "wdf" : tensor<32x1x3x3xf32>
  %bd = ktensor.weight "bd" : tensor<32xf32>
  %w2 = ktensor.weight "w2" : tensor<8x32x1x1xbf16>
  %c1 = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x32x28x28xbf16>, tensor<32x32x1x1xbf16>) -> tensor<1x32x28x28xf32>
  %c1b = ktensor.cast %c1 : (tensor<1x32x28x28xf32>) -> tensor<1x32x28x28xbf16>
  %d = ktensor.conv2d %c1b, %wd bias %bd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x28x28xbf16>, tensor<32x1x3x3xbf16>, tensor<32xf32>) -> tensor<1x32x28x28xf32>
  %db = ktensor.cast %d : (tensor<1x32x28x28xf32>) -> tensor<1x32x28x28xbf16>
  %y = ktensor.conv2d %db, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x32x28x28xbf16>, tensor<8x32x1x1xbf16>) -> tensor<1x8x28x28xf32>
  %z = ktensor.conv2d %x, %wd bias %bd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x28x28xbf16>, tensor<32x1x3x3xbf16>, tensor<32xf32>) -> tensor<1x32x28x28xf32>
  %zf = ktensor.conv2d %xf, %wdf bias %bd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<1x32x28x28xf32>
  func.return %y, %z, %zf : tensor<1x8x28x28xf32>, tensor<1x32x28x28xf32>, tensor<1x32x28x28xf32>
}

// CHECK:      %d = ktensor.conv2d %c1b, %wd bias %bd {kaena.plan.engine = "pe", kaena.plan.psum_group = 2 : i64, kaena.plan.fuse_cast, kaena.plan.vector_rows = 5 : i64, strides
// CHECK:      %z = ktensor.conv2d %x, %wd bias %bd {kaena.plan.engine = "pe", kaena.plan.psum_group = 2 : i64, strides
// CHECK:      %zf = ktensor.conv2d %xf, %wdf bias %bd {kaena.plan.engine = "vector", strides
// CHECK-NOT:  kaena.plan.vector_rows
