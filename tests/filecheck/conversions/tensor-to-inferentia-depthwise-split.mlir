// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s --check-prefix=PLAN
// A depthwise conv split by output rows (kaena.plan.vector_rows, written here by hand): its last 3
// rows on the vector engine (per tap a multiply by the per-partition weight, an add from the second
// tap on, in fp32; then the bias add and relu6's clamps, the last one storing bf16 straight into the
// resident result), emitted before the PE array's diagonal stationaries, which cover rows 0-4 only.
// Both read the resident input in place. The planning pass keeps a hand-written split.

func.func @main(%x: tensor<1x32x8x8xbf16> {kaena.name = "x"}) -> (tensor<1x8x8x8xf32> {kaena.name = "y"}) {
  %w1 = ktensor.weight "w1" : tensor<32x32x1x1xbf16>
  %wd = ktensor.weight "wd" : tensor<32x1x3x3xbf16>
  %bd = ktensor.weight "bd" : tensor<32xf32>
  %w2 = ktensor.weight "w2" : tensor<8x32x1x1xbf16>
  %c1 = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x32x8x8xbf16>, tensor<32x32x1x1xbf16>) -> tensor<1x32x8x8xf32>
  %c1b = ktensor.cast %c1 : (tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xbf16>
  %d = ktensor.conv2d %c1b, %wd bias %bd {kaena.plan.vector_rows = 3 : i64, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = "relu6"} : (tensor<1x32x8x8xbf16>, tensor<32x1x3x3xbf16>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
  %db = ktensor.cast %d : (tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xbf16>
  %y = ktensor.conv2d %db, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x32x8x8xbf16>, tensor<8x32x1x1xbf16>) -> tensor<1x8x8x8xf32>
  func.return %y : tensor<1x8x8x8xf32>
}

// PLAN:      %d = ktensor.conv2d %c1b, %wd bias %bd {kaena.plan.vector_rows = 3 : i64, kaena.plan.engine = "pe", kaena.plan.psum_group = 1 : i64, kaena.plan.psum_buffers = 2 : i64, kaena.plan.fuse_cast,

// The resident input is stored with the conv's padding: only its 36 padding elements per 10 x 10
// plane are zeroed (top row, bottom row, then the left/right pads row by row), not the interior.
// CHECK:      %c1b_sb = inf.alloc {kaena.resident} : !inf.sbuf<32x100xbf16>
// CHECK-NEXT: inf.memset %c1b_sb <p = 0, n = 32, off = 0, dims = {{\[\[}}1, 100], [10, 1]]>
// CHECK-NEXT: inf.memset %c1b_sb <p = 0, n = 32, off = 90, dims = {{\[\[}}1, 100], [10, 1]]>
// CHECK-NEXT: inf.memset %c1b_sb <p = 0, n = 32, off = 10, dims = {{\[\[}}1, 100], [1, 1]]>
// CHECK-NEXT: inf.memset %c1b_sb <p = 0, n = 32, off = 19, dims = {{\[\[}}1, 100], [7, 10], [2, 1]]>
// CHECK-NEXT: inf.memset %c1b_sb <p = 0, n = 32, off = 89, dims = {{\[\[}}1, 100], [1, 1]]>
// CHECK-NOT:  inf.memset %c1b_sb
// CHECK:      %dw_acc = inf.alloc : !inf.sbuf<32x24xf32>
// CHECK-NEXT: %dw_prod = inf.alloc : !inf.sbuf<32x24xf32>
// Rows 5-7 (offset 50 = row 5 of the 10-wide padded input plane), tap 0 a multiply, tap 1 a multiply and an add.
// CHECK-NEXT: inf.tensor_scalar "mul" %dw_acc <p = 0, n = 32, off = 0, dims = {{\[\[}}24, 1]]>, %c1b_sb <p = 0, n = 32, off = 50, dims = {{\[\[}}3, 10], [8, 1]]> scalar %w_col {scalar_ap = #inf.ap<p = 0, n = 32, off = 0, dims = {{\[\[}}1, 1]]>}
// CHECK-NEXT: inf.tensor_scalar "mul" %dw_prod <p = 0, n = 32, off = 0, dims = {{\[\[}}24, 1]]>, %c1b_sb <p = 0, n = 32, off = 51, dims = {{\[\[}}3, 10], [8, 1]]> scalar %w_col {scalar_ap = #inf.ap<p = 0, n = 32, off = 1,
// CHECK-NEXT: inf.tensor_tensor "add" %dw_acc {{.*}}, %dw_acc {{.*}}, %dw_prod
// The last tap (2, 2) at offset 72.
// CHECK:      inf.tensor_scalar "mul" %dw_prod <p = 0, n = 32, off = 0, dims = {{\[\[}}24, 1]]>, %c1b_sb <p = 0, n = 32, off = 72, dims = {{\[\[}}3, 10], [8, 1]]> scalar %w_col {scalar_ap = #inf.ap<p = 0, n = 32, off = 8,
// CHECK-NEXT: inf.tensor_tensor "add" %dw_acc
// Bias, relu, relu6's min: the vector engine's own epilogue, the last op writing rows 5-7 of the result.
// CHECK-NEXT: inf.tensor_scalar "add" %dw_acc {{.*}} scalar %b_t
// CHECK-NEXT: inf.tensor_scalar "max" %dw_acc {{.*}} {imm = 0.000000e+00 : f32}
// CHECK-NEXT: inf.tensor_scalar "min" %db_sb <p = 0, n = 32, off = 40, dims = {{\[\[}}3, 8], [8, 1]]>, %dw_acc <p = 0, n = 32, off = 0, dims = {{\[\[}}24, 1]]> {imm = 6.000000e+00 : f32}
// The PE array: rows 0-4 (5 x 8 = 40 moving columns), its 9 taps unrolled, drained by the scalar
// engine right after the last tap's matmul.
// CHECK-NEXT: inf.load_stationary %w_diag
// CHECK-NEXT: inf.matmul %ps_1 <p = 0, n = 32, off = 0, dims = {{\[\[}}40, 1]]>, %c1b_sb <p = 0, n = 32, off = 0, dims = {{\[\[}}5, 10], [8, 1]]>
// CHECK:      inf.matmul %ps_1 <p = 0, n = 32, off = 0, dims = {{\[\[}}40, 1]]>, %c1b_sb <p = 0, n = 32, off = 22, dims = {{\[\[}}5, 10], [8, 1]]> {accumulate = #inf.expr<8>}
// CHECK-NEXT: inf.activation "relu" %db_sb <p = 0, n = 32, off = 0, dims = {{\[\[}}5, 8], [8, 1]]>, %ps_1
// CHECK-NEXT: inf.tensor_scalar "min" %db_sb <p = 0, n = 32, off = 0, dims = {{\[\[}}5, 8], [8, 1]]>
// CHECK-NOT:  inf.tensor_scalar "mul"
