// RUN: kaena-opt %s --split-input-file -p ktensor-plan-residency | filecheck %s
// RUN: kaena-opt %s --split-input-file -p convert-tensor-to-inferentia | filecheck %s --check-prefix=LOWER
// In a NeuronCore Pipeline stage (kaena.pipeline on the module) the arguments, values
// earlier stages send, may stay in SBUF: kaena.plan.resident in the argument's attributes,
// loaded by one DMA per channel tile when the function starts. A result is resident too,
// also when no op of the stage reads it (the cast, sent only): its producer writes SBUF and
// one DMA sends it. So the residual add mixes nothing from DRAM and nothing spills
// (without this the add's operands and result, and the cast, all stayed in DRAM: the conv
// wrote its result to scratch, the add read it back).

builtin.module attributes {kaena.pipeline = {cores = 3 : i64}} {
  func.func @main(%x: tensor<1x8x4x4xbf16> {kaena.name = "pipe.3.x.s1"}, %r: tensor<1x16x4x4xf32> {kaena.name = "pipe.1.r.s1"}) -> (tensor<1x16x4x4xf32> {kaena.name = "pipe.5.s.s1"}, tensor<1x16x4x4xbf16> {kaena.name = "pipe.6.c.s1"}) {
    %w = ktensor.weight "w" : tensor<16x8x1x1xbf16>
    %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x4x4xbf16>, tensor<16x8x1x1xbf16>) -> tensor<1x16x4x4xf32>
    %s = ktensor.elementwise "add" %y, %r {activation = "relu"} : (tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
    %c = ktensor.cast %s : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xbf16>
    func.return %s, %c : tensor<1x16x4x4xf32>, tensor<1x16x4x4xbf16>
  }
}

// CHECK:      func.func @main(%x: tensor<1x8x4x4xbf16> {kaena.name = "pipe.3.x.s1", kaena.plan.resident = array<i64: 0, 0, 0, 0>}, %r: tensor<1x16x4x4xf32> {kaena.name = "pipe.1.r.s1", kaena.plan.resident = array<i64: 0, 0, 0, 0>})
// CHECK:      %y = ktensor.conv2d %x, %w {kaena.plan.resident = array<i64: 0, 0, 0, 0>,
// CHECK-NEXT: %s = ktensor.elementwise "add" %y, %r {kaena.plan.resident = array<i64: 0, 0, 0, 0>,
// CHECK-NEXT: %c = ktensor.cast %s {kaena.plan.resident = array<i64: 0, 0, 0, 0>}

// LOWER:      %x_sb = inf.alloc {kaena.resident} : !inf.sbuf<8x16xbf16>
// LOWER-NEXT: inf.dma %x_sb <p = 0, n = 8, off = 0, dims = [[16, 1]]>, %pipe.3.x.s1 <p = 0, n = 8, pstride = 16, off = 0, dims = [[16, 1]]>
// LOWER-NEXT: %r_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x16xf32>
// LOWER-NEXT: inf.dma %r_sb <p = 0, n = 16, off = 0, dims = [[16, 1]]>, %pipe.1.r.s1 <p = 0, n = 16, pstride = 16, off = 0, dims = [[16, 1]]>
// LOWER-NOT:  inf.dram "tmp"
// LOWER:      inf.matmul %ps <p = 0, n = 16, off = 0, dims = [[16, 1]]>, %x_sb
// LOWER:      inf.tensor_tensor "add" %s_sb <p = 0, n = 16, off = 0, dims = [[16, 1]]>, %y_sb <p = 0, n = 16, off = 0, dims = [[16, 1]]>, %r_sb
// LOWER-NEXT: inf.activation "relu" %s_sb
// LOWER-NEXT: inf.dma %pipe.5.s.s1 <p = 0, n = 16, pstride = 16, off = 0, dims = [[16, 1]]>, %s_sb <p = 0, n = 16, off = 0, dims = [[16, 1]]>
// LOWER-NEXT: %c_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x16xbf16>
// LOWER-NEXT: inf.activation "identity" %c_sb <p = 0, n = 16, off = 0, dims = [[16, 1]]>, %s_sb
// LOWER-NEXT: inf.dma %pipe.6.c.s1 <p = 0, n = 16, pstride = 16, off = 0, dims = [[16, 1]]>, %c_sb
// LOWER-NOT:  inf.dma

// -----

// One core (no kaena.pipeline): arguments and results stay in DRAM, as before.

func.func @main(%x: tensor<1x8x4x4xbf16> {kaena.name = "x"}, %r: tensor<1x16x4x4xf32> {kaena.name = "r"}) -> (tensor<1x16x4x4xf32> {kaena.name = "s"}, tensor<1x16x4x4xbf16> {kaena.name = "c"}) {
  %w = ktensor.weight "w" : tensor<16x8x1x1xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x8x4x4xbf16>, tensor<16x8x1x1xbf16>) -> tensor<1x16x4x4xf32>
  %s = ktensor.elementwise "add" %y, %r {activation = "relu"} : (tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %c = ktensor.cast %s : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xbf16>
  func.return %s, %c : tensor<1x16x4x4xf32>, tensor<1x16x4x4xbf16>
}

// CHECK:      func.func @main(%x: tensor<1x8x4x4xbf16> {kaena.name = "x"}, %r: tensor<1x16x4x4xf32> {kaena.name = "r"})
// CHECK:      %y = ktensor.conv2d %x, %w {strides
// CHECK-NEXT: %s = ktensor.elementwise "add" %y, %r {activation

// LOWER:      inf.dram "tmp"
// LOWER-NOT:  kaena.resident
