// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Source locations: every inf op the lowering emits for a ktensor op (tiles, loops, instructions,
// its DRAM scratch) carries that op's kaena.source; a producer that writes its cast's result carries
// both nodes. Function inputs, outputs and weights belong to no single node and carry none.

func.func @main(%x: tensor<1x3x6x6xf32> {kaena.name = "x"}) -> (tensor<1x4x6x6xbf16> {kaena.name = "y"}) {
  %w = ktensor.weight "w" {kaena.source = ["w"]} : tensor<4x3x3x3xf32>
  %a = ktensor.conv2d %x, %w {kaena.source = ["conv1"], strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  %c = ktensor.cast %a {kaena.source = ["cast1"]} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xbf16>
  %y = ktensor.activation "sigmoid" %c {kaena.source = ["act1"]} : (tensor<1x4x6x6xbf16>) -> tensor<1x4x6x6xbf16>
  func.return %y : tensor<1x4x6x6xbf16>
}

// CHECK:      %x = inf.dram "input" "x" : !inf.dram<1x3x6x6xf32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x4x6x6xbf16>
// CHECK-NEXT: %w = inf.dram "file" "w" : !inf.dram<4x3x3x3xf32>
// CHECK-NEXT: %t0 = inf.dram "tmp" "t0" {kaena.source = ["conv1", "cast1"]} : !inf.dram<1x4x6x6xbf16>
// CHECK-NEXT: %x_t = inf.alloc {kaena.source = ["conv1", "cast1"]}
// CHECK:      inf.dma %w_t {{.*}} {kaena.source = ["conv1", "cast1"]}
// CHECK:      inf.loop 3 attributes {kaena.source = ["conv1", "cast1"]} {
// CHECK:      inf.load_stationary %w_t {{.*}} {kaena.source = ["conv1", "cast1"]}
// CHECK-NEXT: inf.matmul %ps {{.*}} {kaena.source = ["conv1", "cast1"], accumulate
// CHECK:      inf.activation "relu" %o_t {{.*}} {kaena.source = ["conv1", "cast1"]}
// CHECK:      inf.dma %t0 {{.*}} {kaena.source = ["conv1", "cast1"]}
// CHECK:      %in0_t = inf.alloc {kaena.source = ["act1"]}
// CHECK:      inf.activation "sigmoid" %o_t{{.*}} {kaena.source = ["act1"]}
// CHECK:      inf.dma %y {{.*}} {kaena.source = ["act1"]}
// CHECK-NOT:  kaena.source = ["w"]
