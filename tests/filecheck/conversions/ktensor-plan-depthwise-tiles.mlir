// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s --check-prefix=PLAN
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// ktensor-plan-conv-bands splits a BF16 depthwise conv on the PE array whose input and result stay
// resident by channel tiles: kaena.plan.vector_tiles, the last full channel tiles that
// CostModel.depthwise_split gives wholly to the vector engine (at 14x14 the PE array pays a
// stationary load per tap and block for few moving columns, so a whole tile on the vector engine,
// with no diagonals, beats a few vector rows per tile). 384 channels = 3 tiles: tile 2 on the vector
// engine, tiles 0 and 1 on the PE array, and no vector rows.

func.func @main(%x: tensor<1x384x14x14xbf16> {kaena.name = "x"}) -> (tensor<1x16x14x14xf32> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<384x384x1x1xbf16>
  %wd = ktensor.weight "wd" : tensor<384x1x3x3xbf16>
  %bd = ktensor.weight "bd" : tensor<384xf32>
  %w2 = ktensor.weight "w2" : tensor<16x384x1x1xbf16>
  %c1 = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x384x14x14xbf16>, tensor<384x384x1x1xbf16>) -> tensor<1x384x14x14xf32>
  %c1b = ktensor.cast %c1 : (tensor<1x384x14x14xf32>) -> tensor<1x384x14x14xbf16>
  %d = ktensor.conv2d %c1b, %wd bias %bd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 384 : i64, activation = "relu6"} : (tensor<1x384x14x14xbf16>, tensor<384x1x3x3xbf16>, tensor<384xf32>) -> tensor<1x384x14x14xf32>
  %db = ktensor.cast %d : (tensor<1x384x14x14xf32>) -> tensor<1x384x14x14xbf16>
  %y = ktensor.conv2d %db, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x384x14x14xbf16>, tensor<16x384x1x1xbf16>) -> tensor<1x16x14x14xf32>
  func.return %y : tensor<1x16x14x14xf32>
}

// PLAN:      %d = ktensor.conv2d %c1b, %wd bias %bd {kaena.plan.engine = "pe", kaena.plan.psum_group = 1 : i64, kaena.plan.psum_buffers = 2 : i64, kaena.plan.fuse_cast, kaena.plan.vector_tiles = 1 : i64, strides
// PLAN-NOT:  kaena.plan.vector_rows

// The lowering: PE tile 0's diagonals, then (tile 0's iteration, unrolled) tile 1's, then the vector
// tile 2 (input plane at 2 x 256, the tap weights from column 18 = 2 x 9) in fp32 with its bias,
// relu and relu6's min storing bf16 into tile 2 of the resident result (2 x 196); then the PE array's
// tile 0 in two blocks of 64 channels, each drained by the scalar engine, then tile 1.
// CHECK:      inf.tensor_tensor "mul" %w_diag <p = 0, n = 128, off = 0, dims = {{\[\[}}9, 64], [64, 1]]>
// CHECK-NEXT: inf.tensor_tensor "mul" %w_diag <p = 0, n = 128, off = 576, dims = {{\[\[}}9, 64], [64, 1]]>
// CHECK-NEXT: %dw_acc = inf.alloc : !inf.sbuf<128x196xf32>
// CHECK-NEXT: %dw_prod = inf.alloc : !inf.sbuf<128x196xf32>
// CHECK-NEXT: inf.tensor_scalar "mul" %dw_acc <p = 0, n = 128, off = 0, dims = {{\[\[}}196, 1]]>, %c1b_sb <p = 0, n = 128, off = 512, dims = {{\[\[}}14, 16], [14, 1]]> scalar %w_col {scalar_ap = #inf.ap<p = 0, n = 128, off = 18,
// CHECK:      inf.tensor_scalar "add" %dw_acc {{.*}} scalar %b_t {scalar_ap = #inf.ap<p = 0, n = 128, off = 2,
// CHECK-NEXT: inf.tensor_scalar "max" %dw_acc
// CHECK-NEXT: inf.tensor_scalar "min" %db_sb <p = 0, n = 128, off = 392, dims = {{\[\[}}14, 14], [14, 1]]>, %dw_acc
// CHECK-NEXT: inf.load_stationary %w_diag <p = 0, n = 64, off = 0,
// CHECK:      inf.activation "relu" %db_sb <p = 0, n = 64, off = 0, dims = {{\[\[}}14, 14], [14, 1]]>, %ps
// CHECK:      inf.activation "relu" %db_sb <p = 64, n = 64, off = 0, dims = {{\[\[}}14, 14], [14, 1]]>, %ps
// CHECK:      inf.activation "relu" %db_sb <p = 0, n = 64, off = 196, dims = {{\[\[}}14, 14], [14, 1]]>, %ps
// CHECK:      inf.activation "relu" %db_sb <p = 64, n = 64, off = 196, dims = {{\[\[}}14, 14], [14, 1]]>, %ps
// CHECK-NOT:  inf.activation "relu" %db_sb
// CHECK-NOT:  %dw_acc
