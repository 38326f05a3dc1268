// RUN: kaena-opt %s -p convert-framework-to-tensor | filecheck %s

// Weights: ../Inputs/frontend-weights.npz (seeded random float32 arrays; see
// tests/filecheck/transforms/auto-cast.mlir for the list of names and shapes).

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {

// Gemm's transB folds into a derived weight (made once for both users); a [6]
// or [1, 6] C becomes the matmul bias; identity disappears.
// CHECK-LABEL: func.func @gemm_weights
// CHECK-NEXT:    %b = ktensor.weight "fc.bias" : tensor<6xf32>
// CHECK-NEXT:    %fc.weight = ktensor.weight "fc.weight.{{[0-9a-f]+}}" : tensor<32x6xf32>
// CHECK-NEXT:    %y = ktensor.matmul %x, %fc.weight bias %b {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %fc.bias_row = ktensor.weight "fc.bias_row.{{[0-9a-f]+}}" : tensor<6xf32>
// CHECK-NEXT:    %y2 = ktensor.matmul %x, %fc.weight bias %fc.bias_row {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %s = ktensor.elementwise "add" %y, %y2 {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %s : tensor<4x6xf32>
func.func @gemm_weights(%x: tensor<4x32xf32>) -> tensor<4x6xf32> {
  %w = fw.weight "fc.weight" : tensor<6x32xf32>
  %b = fw.weight "fc.bias" : tensor<6xf32>
  %y = fw.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %y3 = fw.identity %x : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %br = fw.weight "fc.bias_row" : tensor<1x6xf32>
  %y2 = fw.gemm %y3, %w, %br {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>, tensor<1x6xf32>) -> tensor<4x6xf32>
  %s = fw.add %y, %y2 : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}

// alpha folds into the weight, beta into a matrix C that stays an add.
// CHECK-LABEL: func.func @gemm_scaled
// CHECK-NEXT:    %a.weight = ktensor.weight "a.weight.{{[0-9a-f]+}}" : tensor<4x32xf32>
// CHECK-NEXT:    %mm.weight = ktensor.weight "mm.weight.{{[0-9a-f]+}}" : tensor<32x6xf32>
// CHECK-NEXT:    %c.mat = ktensor.weight "c.mat.{{[0-9a-f]+}}" : tensor<4x6xf32>
// CHECK-NEXT:    %y = ktensor.matmul %a.weight, %mm.weight {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %y_1 = ktensor.elementwise "add" %y, %c.mat {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %y_1 : tensor<4x6xf32>
func.func @gemm_scaled() -> tensor<4x6xf32> {
  %a = fw.weight "a.weight" : tensor<32x4xf32>
  %w = fw.weight "mm.weight" : tensor<32x6xf32>
  %c = fw.weight "c.mat" : tensor<4x6xf32>
  %y = fw.gemm %a, %w, %c {alpha = 2.0 : f32, beta = 0.5 : f32, trans_a = true, trans_b = false} : (tensor<32x4xf32>, tensor<32x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %y : tensor<4x6xf32>
}

// On activations, transposes are ops and alpha/beta are multiplies by scalar weights.
// CHECK-LABEL: func.func @gemm_activations
// CHECK-NEXT:    %y = ktensor.transpose %a {perm = array<i64: 1, 0>} : (tensor<32x4xf32>) -> tensor<4x32xf32>
// CHECK-NEXT:    %y_1 = ktensor.transpose %b {perm = array<i64: 1, 0>} : (tensor<6x32xf32>) -> tensor<32x6xf32>
// CHECK-NEXT:    %gemm.beta = ktensor.weight "gemm.beta.{{[0-9a-f]+}}" : tensor<1xf32>
// CHECK-NEXT:    %y_2 = ktensor.elementwise "mul" %c, %gemm.beta {activation = "none"} : (tensor<4x6xf32>, tensor<1xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %y_3 = ktensor.matmul %y, %y_1 {activation = "none"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %gemm.alpha = ktensor.weight "gemm.alpha.{{[0-9a-f]+}}" : tensor<1xf32>
// CHECK-NEXT:    %y_4 = ktensor.elementwise "mul" %y_3, %gemm.alpha {activation = "none"} : (tensor<4x6xf32>, tensor<1xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %y_5 = ktensor.elementwise "add" %y_4, %y_2 {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %y_5 : tensor<4x6xf32>
func.func @gemm_activations(%a: tensor<32x4xf32>, %b: tensor<6x32xf32>, %c: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %y = fw.gemm %a, %b, %c {alpha = 3.0 : f32, beta = 0.25 : f32, trans_a = true, trans_b = true} : (tensor<32x4xf32>, tensor<6x32xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %y : tensor<4x6xf32>
}

// N-D matmul: flatten the lhs, 2-D matmul, reshape back; a 1-D rhs becomes a column.
// CHECK-LABEL: func.func @matmul
// CHECK-NEXT:    %w = ktensor.weight "mm.weight" : tensor<32x6xf32>
// CHECK-NEXT:    %y = ktensor.reshape %x : (tensor<2x3x32xf32>) -> tensor<6x32xf32>
// CHECK-NEXT:    %y_1 = ktensor.matmul %y, %w {activation = "none"} : (tensor<6x32xf32>, tensor<32x6xf32>) -> tensor<6x6xf32>
// CHECK-NEXT:    %y_2 = ktensor.reshape %y_1 : (tensor<6x6xf32>) -> tensor<2x3x6xf32>
// CHECK-NEXT:    %z = ktensor.reshape %x : (tensor<2x3x32xf32>) -> tensor<6x32xf32>
// CHECK-NEXT:    %vec = ktensor.weight "vec.{{[0-9a-f]+}}" : tensor<32x1xf32>
// CHECK-NEXT:    %z_1 = ktensor.matmul %z, %vec {activation = "none"} : (tensor<6x32xf32>, tensor<32x1xf32>) -> tensor<6x1xf32>
// CHECK-NEXT:    %z_2 = ktensor.reshape %z_1 : (tensor<6x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %y_2, %z_2 : tensor<2x3x6xf32>, tensor<2x3xf32>
func.func @matmul(%x: tensor<2x3x32xf32>) -> (tensor<2x3x6xf32>, tensor<2x3xf32>) {
  %w = fw.weight "mm.weight" : tensor<32x6xf32>
  %y = fw.matmul %x, %w : (tensor<2x3x32xf32>, tensor<32x6xf32>) -> tensor<2x3x6xf32>
  %v = fw.weight "vec" : tensor<32xf32>
  %z = fw.matmul %x, %v : (tensor<2x3x32xf32>, tensor<32xf32>) -> tensor<2x3xf32>
  func.return %y, %z : tensor<2x3x6xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @cnn
// CHECK-NEXT:    %w = ktensor.weight "conv.weight" : tensor<8x3x3x3xf32>
// CHECK-NEXT:    %b = ktensor.weight "conv.bias" : tensor<8xf32>
// CHECK-NEXT:    %c = ktensor.conv2d %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %r = ktensor.activation "relu" %c : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %sg = ktensor.activation "sigmoid" %r : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %th = ktensor.activation "tanh" %sg : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:    %mp = ktensor.pool2d "max" %th {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
// CHECK-NEXT:    %ap = ktensor.pool2d "avg" %mp {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
// CHECK-NEXT:    %gp = ktensor.pool2d "avg" %ap {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
// CHECK-NEXT:    %f = ktensor.reshape %mp : (tensor<1x8x4x4xf32>) -> tensor<8x16xf32>
// CHECK-NEXT:    %rs = ktensor.reshape %gp : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
// CHECK-NEXT:    %t = ktensor.transpose %f {perm = array<i64: 1, 0>} : (tensor<8x16xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    %a = ktensor.elementwise "add" %t, %rs {activation = "none"} : (tensor<16x8xf32>, tensor<1x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    %s = ktensor.elementwise "sub" %a, %rs {activation = "none"} : (tensor<16x8xf32>, tensor<1x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    %k = ktensor.weight "scalar" : tensor<f32>
// CHECK-NEXT:    %m = ktensor.elementwise "mul" %s, %k {activation = "none"} : (tensor<16x8xf32>, tensor<f32>) -> tensor<16x8xf32>
// CHECK-NEXT:    %d = ktensor.elementwise "div" %m, %a {activation = "none"} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    %sm = ktensor.softmax %d {axis = 1 : i64} : (tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    func.return %sm : tensor<16x8xf32>
func.func @cnn(%x: tensor<1x3x8x8xf32>) -> tensor<16x8xf32> {
  %w = fw.weight "conv.weight" : tensor<8x3x3x3xf32>
  %b = fw.weight "conv.bias" : tensor<8xf32>
  %c = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %r = fw.relu %c : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %sg = fw.sigmoid %r : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %th = fw.tanh %sg : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %mp = fw.max_pool %th {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %ap = fw.average_pool %mp {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %gp = fw.global_average_pool %ap : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %f = fw.flatten %mp {axis = -2 : i64} : (tensor<1x8x4x4xf32>) -> tensor<8x16xf32>
  %rs = fw.reshape %gp {shape = array<i64: 1, 8>} : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  %t = fw.transpose %f {perm = array<i64: 1, 0>} : (tensor<8x16xf32>) -> tensor<16x8xf32>
  %a = fw.add %t, %rs : (tensor<16x8xf32>, tensor<1x8xf32>) -> tensor<16x8xf32>
  %s = fw.sub %a, %rs : (tensor<16x8xf32>, tensor<1x8xf32>) -> tensor<16x8xf32>
  %k = fw.weight "scalar" : tensor<f32>
  %m = fw.mul %s, %k : (tensor<16x8xf32>, tensor<f32>) -> tensor<16x8xf32>
  %d = fw.div %m, %a : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %i = fw.identity %d : (tensor<16x8xf32>) -> tensor<16x8xf32>
  %sm = fw.softmax %i {axis = -1 : i64} : (tensor<16x8xf32>) -> tensor<16x8xf32>
  func.return %sm : tensor<16x8xf32>
}

}
