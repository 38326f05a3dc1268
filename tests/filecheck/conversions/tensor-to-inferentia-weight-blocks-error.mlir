// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// A hand-written kaena.plan.weight_blocks that does not divide the output tiles (4 of 64
// features: 1, 2 or 4 blocks) is refused with one line naming the op and the counts it can do.

func.func @main(%x: tensor<8x128xbf16> {kaena.name = "x"}, %w: tensor<128x256xbf16> {kaena.name = "w"}) -> (tensor<8x256xf32> {kaena.name = "y"}) {
  %y = ktensor.matmul %x, %w {kaena.plan.weight_blocks = 3 : i64, kaena.source = ["fc/MatMul"], activation = "none"} : (tensor<8x128xbf16>, tensor<128x256xbf16>) -> tensor<8x256xf32>
  func.return %y : tensor<8x256xf32>
}

// CHECK: cannot lower node 'fc/MatMul' ('ktensor.matmul' ([8, 128], [128, 256] -> [8, 256])): kaena.plan.weight_blocks = 3, but it can stream its weights in 1, 2, 4 column blocks only
