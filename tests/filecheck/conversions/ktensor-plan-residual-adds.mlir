// RUN: kaena-opt %s -p ktensor-plan-residual-adds | filecheck %s
// RUN: kaena-opt %s -p ktensor-plan-residency | filecheck %s --check-prefix=RES
// Two residual blocks (skip + conv, the add the skip's last reader): the second conv of each
// adds the skip on its drain (kaena.plan.residual_add). Not the third: its skip %t is the
// conv's own input, which the sum written over it would overwrite while the conv reads it.
// The residency plan keeps the skip %a and the sums %s and %t, one tile, together in SBUF.

func.func @main(%x: tensor<1x64x8x8xf32> {kaena.name = "x"}) -> (tensor<1x64x8x8xf32> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<64x64x1x1xf32>
  %w2 = ktensor.weight "w2" : tensor<64x64x3x3xf32>
  %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %b = ktensor.conv2d %a, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x8x8xf32>
  %c = ktensor.conv2d %b, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x8x8xf32>
  %s = ktensor.elementwise "add" %a, %c {activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32>
  %d = ktensor.conv2d %s, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x8x8xf32>
  %e = ktensor.conv2d %d, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x8x8xf32>
  %t = ktensor.elementwise "add" %e, %s {activation = "none"} : (tensor<1x64x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32>
  %u = ktensor.conv2d %t, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %v = ktensor.elementwise "add" %t, %u {activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32>
  %y = ktensor.conv2d %v, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  func.return %y : tensor<1x64x8x8xf32>
}

// CHECK:      kaena.plan.done = [{{.*}}"matmul-streams", "residual-adds"]
// CHECK:      %a = ktensor.conv2d %x, %w1 {strides
// CHECK:      %b = ktensor.conv2d %a, %w2 {strides
// CHECK:      %c = ktensor.conv2d %b, %w2 {kaena.plan.residual_add,
// CHECK:      %e = ktensor.conv2d %d, %w2 {kaena.plan.residual_add,
// CHECK:      %u = ktensor.conv2d %t, %w1 {strides
// CHECK:      %y = ktensor.conv2d %v, %w1 {strides

// RES:        %a = ktensor.conv2d {{.*}}kaena.plan.resident = array<i64: 1, 1, 1, 1>
// RES:        %s = ktensor.elementwise "add" %a, %c {kaena.plan.resident = array<i64: 1, 1, 1, 1>
// RES:        %t = ktensor.elementwise "add" %e, %s {kaena.plan.resident = array<i64: 1, 1, 1, 1>
