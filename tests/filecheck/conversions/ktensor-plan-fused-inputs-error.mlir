// RUN: not kaena-opt %s -p ktensor-plan-fused-inputs 2>&1 | filecheck %s
// A hand-written kaena.plan.fuse_input is checked: the cast before this matmul has a second
// user, so the matmul cannot do it on its own tiles.

func.func @main(%x: tensor<8x128xf32> {kaena.name = "x"}, %w: tensor<128x64xbf16> {kaena.name = "w"}) -> (tensor<8x64xf32> {kaena.name = "y"}, tensor<8x128xbf16> {kaena.name = "xb"}) {
  %xb = ktensor.cast %x : (tensor<8x128xf32>) -> tensor<8x128xbf16>
  %y = ktensor.matmul %xb, %w {kaena.plan.fuse_input, activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  func.return %y, %xb : tensor<8x64xf32>, tensor<8x128xbf16>
}

// CHECK: kaena.plan.fuse_input needs a first operand whose producer only this op uses and that this op can do itself
