// RUN: kaena-opt %s -p ktensor-plan-engines | filecheck %s
// ktensor-plan-engines records where each depthwise conv runs (kaena.plan.engine): BF16 on the PE
// array (diagonal stationaries, which the cost model prices below the vector engine's multiply-adds)
// with the PSUM row chunks sharing each stationary (kaena.plan.psum_group) and, when two slots of
// them fit beside the bank kept for the neighbouring ops, two PSUM result buffers
// (kaena.plan.psum_buffers = 2: %y's 16 x 16 rows fill one bank; %b's 56 x 56 take 3 chunks of a
// bank each, one slot only); FP32 (PE at 1/4 rate) on the vector engine. A dense conv has no
// engine to choose.

func.func @main(%x: tensor<1x32x16x16xbf16> {kaena.name = "x"}, %xf: tensor<1x32x16x16xf32> {kaena.name = "xf"}, %xb: tensor<1x32x56x56xbf16> {kaena.name = "xb"}) -> (tensor<1x32x16x16xf32> {kaena.name = "y"}, tensor<1x32x16x16xf32> {kaena.name = "yf"}, tensor<1x8x16x16xf32> {kaena.name = "z"}, tensor<1x32x56x56xf32> {kaena.name = "b"}) {
  %w = ktensor.weight "dw" : tensor<32x1x3x3xbf16>
  %wf = ktensor.weight "dwf" : tensor<32x1x3x3xf32>
  %w2 = ktensor.weight "w2" : tensor<8x32x1x1xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x16x16xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x16x16xf32>
  %yf = ktensor.conv2d %xf, %wf {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x16x16xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x16x16xf32>
  %z = ktensor.conv2d %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x32x16x16xbf16>, tensor<8x32x1x1xbf16>) -> tensor<1x8x16x16xf32>
  %b = ktensor.conv2d %xb, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x56x56xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x56x56xf32>
  func.return %y, %yf, %z, %b : tensor<1x32x16x16xf32>, tensor<1x32x16x16xf32>, tensor<1x8x16x16xf32>, tensor<1x32x56x56xf32>
}

// CHECK:      func.func @main({{.*}} attributes {kaena.plan.done = ["engines"]} {
// CHECK:      %y = ktensor.conv2d %x, %w {kaena.plan.engine = "pe", kaena.plan.psum_group = 1 : i64, kaena.plan.psum_buffers = 2 : i64, strides
// CHECK-NEXT: %yf = ktensor.conv2d %xf, %wf {kaena.plan.engine = "vector", strides
// CHECK-NEXT: %z = ktensor.conv2d %x, %w2 {strides
// CHECK-NEXT: %b = ktensor.conv2d %xb, %w {kaena.plan.engine = "pe", kaena.plan.psum_group = 3 : i64, strides
