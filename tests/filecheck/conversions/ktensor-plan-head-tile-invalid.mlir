// RUN: not kaena-opt %s -p ktensor-plan-matmul-streams 2>&1 | filecheck %s
// kaena.plan.head_tile written by hand on a matmul whose result no attention block reads is one error line.

func.func @main(%x: tensor<128x128xbf16> {kaena.name = "x"}, %w: tensor<128x128xbf16> {kaena.name = "w"}) -> (tensor<128x128xf32> {kaena.name = "y"}) {
  %y = ktensor.matmul %x, %w {kaena.plan.head_tile, activation = "none"} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xf32>
  func.return %y : tensor<128x128xf32>
}

// CHECK: kaena.plan.head_tile is set, but its result is not the q, k or v of an attention block that can read it from SBUF
