// RUN: not kaena-opt %s -p ktensor-plan-epilogues 2>&1 | filecheck %s
// A hand-written kaena.plan.epilogue is checked: the matmul's result feeds an op its drain
// cannot do (a tanh), so no chain of 2 users can be written through.

func.func @main(%x: tensor<8x128xbf16> {kaena.name = "x"}, %w: tensor<128x64xbf16> {kaena.name = "w"}) -> (tensor<8x64xf32> {kaena.name = "y"}) {
  %m = ktensor.matmul %x, %w {kaena.plan.epilogue = 2 : i64, activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %y = ktensor.activation "tanh" %m : (tensor<8x64xf32>) -> tensor<8x64xf32>
  func.return %y : tensor<8x64xf32>
}

// CHECK: kaena.plan.epilogue = 2, but its drain can write through at most 0 of its next users
