// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// A hand-written kaena.plan.weight_slots on weights streamed in 2 blocks (each block would
// have its own slot anyway) is refused with one line naming the op.

func.func @main(%x: tensor<8x128xbf16> {kaena.name = "x"}, %w: tensor<128x256xbf16> {kaena.name = "w"}) -> (tensor<8x256xf32> {kaena.name = "y"}) {
  %y = ktensor.matmul %x, %w {kaena.plan.weight_blocks = 2 : i64, kaena.plan.weight_slots = 2 : i64, kaena.source = ["fc/MatMul"], activation = "none"} : (tensor<8x128xbf16>, tensor<128x256xbf16>) -> tensor<8x256xf32>
  func.return %y : tensor<8x256xf32>
}

// CHECK: cannot lower node 'fc/MatMul' ('ktensor.matmul' ([8, 128], [128, 256] -> [8, 256])): kaena.plan.weight_slots = 2, but only 2 slots for weights streamed in more than 2 blocks are supported (it streams 2)
