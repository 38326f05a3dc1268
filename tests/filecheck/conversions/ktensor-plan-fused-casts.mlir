// RUN: kaena-opt %s -p ktensor-plan-fused-casts | filecheck %s
// ktensor-plan-fused-casts marks the producers that write their single user cast's result directly
// (kaena.plan.fuse_cast): a conv whose last step is one rounding (relu) does; an elementwise op
// ending in a sigmoid does not (two roundings would differ); the pool, returned directly, has no
// cast to fuse.

func.func @main(%x: tensor<1x8x8x8xf32> {kaena.name = "x"}) -> (tensor<1x8x4x4xbf16> {kaena.name = "p"}, tensor<1x8x8x8xbf16> {kaena.name = "s"}) {
  %w = ktensor.weight "w" : tensor<8x8x3x3xf32>
  %a = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x8xf32>
  %ab = ktensor.cast %a : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xbf16>
  %m = ktensor.pool2d "max" %ab {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x8xbf16>) -> tensor<1x8x4x4xbf16>
  %e = ktensor.elementwise "add" %x, %x {activation = "sigmoid"} : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %s = ktensor.cast %e : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xbf16>
  func.return %m, %s : tensor<1x8x4x4xbf16>, tensor<1x8x8x8xbf16>
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts"]}
// CHECK:      %a = ktensor.conv2d %x, %w {kaena.plan.fuse_cast, strides
// CHECK-NEXT: %ab = ktensor.cast %a :
// CHECK-NEXT: %m = ktensor.pool2d "max" %ab {kernel
// CHECK-NEXT: %e = ktensor.elementwise "add" %x, %x {activation = "sigmoid"} :
