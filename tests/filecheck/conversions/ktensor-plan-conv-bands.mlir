// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s --check-prefix=FORCED
// ktensor-plan-conv-bands records a dense conv's band plan: for this 224x224 first layer reading DRAM
// the cost model (CostModel.band_loop) picks 24-row bands in two buffers, and two PSUM buffers
// (CostModel.buffer_count). The second conv carries a plan written by hand (one 112-row band, one
// buffer, one PSUM tile): the planner keeps it and the lowering follows it.

func.func @main(%x: tensor<1x3x224x224xbf16> {kaena.name = "x"}) -> (tensor<1x64x112x112xbf16> {kaena.name = "y"}, tensor<1x64x112x112xbf16> {kaena.name = "z"}) {
  %w = ktensor.weight "w" : tensor<64x3x7x7xbf16>
  %y = ktensor.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<64x3x7x7xbf16>) -> tensor<1x64x112x112xbf16>
  %z = ktensor.conv2d %x, %w {kaena.plan.band_rows = 8 : i64, kaena.plan.band_buffers = 1 : i64, kaena.plan.psum_buffers = 1 : i64, strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x3x224x224xbf16>, tensor<64x3x7x7xbf16>) -> tensor<1x64x112x112xbf16>
  func.return %y, %z : tensor<1x64x112x112xbf16>, tensor<1x64x112x112xbf16>
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table", "attention", "matmul-streams", "residual-adds", "residency", "conv-bands"]}
// CHECK:      %y = ktensor.conv2d %x, %w {kaena.plan.band_rows = 24 : i64, kaena.plan.band_buffers = 2 : i64, kaena.plan.psum_buffers = 2 : i64, strides
// CHECK-NEXT: %z = ktensor.conv2d %x, %w {kaena.plan.band_rows = 8 : i64, kaena.plan.band_buffers = 1 : i64, kaena.plan.psum_buffers = 1 : i64, strides

// The first conv: two band tiles of 24 output rows (folded: a row of 230 padded columns each) and
// two PSUM tiles; the second: one band tile of 8 rows, one PSUM tile, one result tile.
// FORCED-COUNT-2: %x_t{{.*}} = inf.alloc : !inf.sbuf<21x5520xbf16>
// FORCED-COUNT-2: %ps{{.*}} = inf.alloc : !inf.psum<64x
// FORCED:         %x_t{{.*}} = inf.alloc : !inf.sbuf<21x1840xbf16>
// FORCED-NEXT:    %w_t
// FORCED-NEXT:    %ps{{.*}} = inf.alloc : !inf.psum<64x
// FORCED-NEXT:    %o_t{{.*}} = inf.alloc : !inf.sbuf<64x896xbf16>
