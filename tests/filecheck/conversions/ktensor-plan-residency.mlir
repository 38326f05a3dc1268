// RUN: kaena-opt %s -p ktensor-plan-residency | filecheck %s
// ktensor-plan-residency (after the stages it needs, run first) keeps values in SBUF between ops:
// kaena.plan.resident on the op defining each one, with the zero padding its consumers read
// ([top, left, bottom, right]: the max pool's [1, 1, 0, 0], the second conv's [1, 1, 1, 1]). The
// conv's result, read only by a max pool rounding to bf16, is stored in bf16 (kaena.plan.store_type:
// rounding is monotonic, so it commutes with max). The pool writes its cast's result (fused), so the
// cast carries the decision for the value both define.

func.func @main(%x: tensor<1x8x8x8xf32> {kaena.name = "x"}) -> (tensor<1x16x4x4xf32> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<8x8x3x3xf32>
  %w2 = ktensor.weight "w2" : tensor<16x8x3x3xbf16>
  %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x8xf32>
  %p = ktensor.pool2d "max" %a {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %c = ktensor.cast %p : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xbf16>
  %y = ktensor.conv2d %c, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x4x4xbf16>, tensor<16x8x3x3xbf16>) -> tensor<1x16x4x4xf32>
  func.return %y : tensor<1x16x4x4xf32>
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table", "attention", "matmul-streams", "residual-adds", "residency"]}
// CHECK:      %a = ktensor.conv2d %x, %w1 {kaena.plan.resident = array<i64: 1, 1, 0, 0>, kaena.plan.store_type = bf16, strides
// CHECK-NEXT: %p = ktensor.pool2d "max" %a {kaena.plan.fuse_cast, kernel
// CHECK-NEXT: %c = ktensor.cast %p {kaena.plan.resident = array<i64: 1, 1, 1, 1>} :
// CHECK-NEXT: %y = ktensor.conv2d %c, %w2 {strides
