// RUN: not kaena-opt %s -p ktensor-plan-matmul-streams 2>&1 | filecheck %s
// A hand-written kaena.plan.chain on a matmul whose result is also a function result (it must
// reach DRAM) is refused with one line naming the op.

func.func @main(%x: tensor<128x256xbf16> {kaena.name = "x"}, %w1: tensor<256x512xbf16> {kaena.name = "w1"}, %w2: tensor<512x256xbf16> {kaena.name = "w2"}) -> (tensor<128x256xf32> {kaena.name = "y"}, tensor<128x512xbf16> {kaena.name = "h"}) {
  %h = ktensor.matmul %x, %w1 {kaena.plan.chain, kaena.source = ["ffn/MatMul"], activation = "gelu"} : (tensor<128x256xbf16>, tensor<256x512xbf16>) -> tensor<128x512xf32>
  %hb = ktensor.cast %h : (tensor<128x512xf32>) -> tensor<128x512xbf16>
  %y = ktensor.matmul %hb, %w2 {activation = "none"} : (tensor<128x512xbf16>, tensor<512x256xbf16>) -> tensor<128x256xf32>
  func.return %y, %hb : tensor<128x256xf32>, tensor<128x512xbf16>
}

// CHECK: cannot lower node 'ffn/MatMul' ('ktensor.matmul' ([128, 256], [256, 512] -> [128, 512])): kaena.plan.chain is set, but its result is not the lhs of one matmul that can read it from SBUF
