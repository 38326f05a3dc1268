// RUN: not kaena-opt %s -p ktensor-plan-residual-adds 2>&1 | filecheck %s
// A hand-written kaena.plan.residual_add on a conv whose single reader is a cast, no add:
// a clear error, not an internal one.

func.func @main(%x: tensor<1x64x8x8xf32> {kaena.name = "x"}) -> (tensor<1x64x8x8xbf16> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<64x64x1x1xf32>
  %a = ktensor.conv2d %x, %w1 {kaena.plan.residual_add, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %y = ktensor.cast %a : (tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xbf16>
  func.return %y : tensor<1x64x8x8xbf16>
}

// CHECK: cannot lower 'ktensor.conv2d' {{.*}}: kaena.plan.residual_add needs a dense conv with no activation whose only reader adds a skip
