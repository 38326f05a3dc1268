// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// One case per fw verifier check; each must be rejected with its message.

// CHECK: Operation does not verify: 'fw.relu' needs static shapes, got tensor<?x3xf32>
func.func @f(%a: tensor<?x3xf32>) {
  %0 = fw.relu %a : (tensor<?x3xf32>) -> tensor<?x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.add' operands and results must share one element type, got f16, f32
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf16>) {
  %0 = fw.add %a, %b : (tensor<2x3xf32>, tensor<3xf16>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.relu' result shape must be (2, 3), got (3, 2)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.relu %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.add' operands do not broadcast: (2, 3), (4,)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  %0 = fw.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.mul' result shape must be (2, 3), got (2, 2, 3)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  %0 = fw.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gemm' expects 2-D a and b, got (2, 3, 1) and (3, 4)
func.func @f(%a: tensor<2x3x1xf32>, %b: tensor<3x4xf32>) {
  %0 = fw.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = false} : (tensor<2x3x1xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gemm' inner dimensions differ: 3 and 4
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  %0 = fw.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.gemm' c (3,) does not broadcast to (2, 4)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<3xf32>) {
  %0 = fw.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = false} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.matmul' operands must have rank >= 1
func.func @f(%a: tensor<f32>, %b: tensor<3xf32>) {
  %0 = fw.matmul %a, %b : (tensor<f32>, tensor<3xf32>) -> tensor<f32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.matmul' inner dimensions differ: (2, 3) x (4, 5)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  %0 = fw.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.matmul' batch dimensions do not broadcast: (2, 2, 3) x (3, 3, 5)
func.func @f(%a: tensor<2x2x3xf32>, %b: tensor<3x3x5xf32>) {
  %0 = fw.matmul %a, %b : (tensor<2x2x3xf32>, tensor<3x3x5xf32>) -> tensor<2x2x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' expects 4-D input and weight, got (1, 3, 8) and (4, 3, 3)
func.func @f(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' needs 2 strides, 2 dilations and 4 pads
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' needs strides, dilations, group >= 1 and pads >= 0
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, -1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' channels do not match group=2: input (1, 3, 8, 8), weight (4, 3, 3, 3)
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' bias must be (4,), got (3,)
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  %0 = fw.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' kernel (3, 3) does not fit input (2, 2)
func.func @f(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.conv' result shape must be (1, 4, 6, 6), got (1, 4, 8, 8)
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = fw.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' expects a 4-D NCHW input, got (3, 8, 8)
func.func @f(%x: tensor<3x8x8xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<3x8x8xf32>) -> tensor<3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' needs 2 kernel_shape, 2 strides, 4 pads and 2 dilations
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.average_pool' needs kernel_shape, strides, dilations >= 1 and pads >= 0
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = fw.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 0, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = false} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' pads (2, 2, 2, 2) must be smaller than the window (2, 2)
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, ceil_mode = false} : (tensor<1x3x8x8xf32>) -> tensor<1x3x5x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' kernel (2, 2) does not fit input (1, 1)
func.func @f(%x: tensor<1x3x1x1xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' result shape must be (1, 3, 4, 4), got (1, 3, 3, 3)
func.func @f(%x: tensor<1x3x7x7xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x3x7x7xf32>) -> tensor<1x3x3x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.global_average_pool' expects rank >= 3, got (2, 3)
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.global_average_pool %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.global_average_pool' result shape must be (1, 3, 1, 1), got (1, 3)
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %0 = fw.global_average_pool %x : (tensor<1x3x4x4xf32>) -> tensor<1x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.flatten' axis 3 out of range for rank 2
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.flatten' result shape must be (6, 4), got (2, 12)
func.func @f(%x: tensor<2x3x4xf32>) {
  %0 = fw.flatten %x {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.reshape' shape (-1, 3) must be static and positive
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.reshape %x {shape = array<i64: -1, 3>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.reshape' changes the element count: (2, 3) -> (4, 2)
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.reshape %x {shape = array<i64: 4, 2>} : (tensor<2x3xf32>) -> tensor<4x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.reshape' result shape must be (3, 2), got (6,)
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.reshape %x {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.transpose' perm (0, 0) is not a permutation of rank 2
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.transpose' result shape must be (3, 2), got (2, 3)
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.softmax' axis 2 out of range for rank 2
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.softmax' axis -3 out of range for rank 2
func.func @f(%x: tensor<2x3xf32>) {
  %0 = fw.softmax %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max' operands do not broadcast: (2, 3), (2, 4)
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  %0 = fw.max %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.batch_norm' expects rank >= 2, got (4,)
func.func @f(%x: tensor<4xf32>, %p: tensor<4xf32>) {
  %0 = fw.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-5 : f32} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.batch_norm' parameters must be (4,), got (3,)
func.func @f(%x: tensor<1x4x2x2xf32>, %p: tensor<3xf32>) {
  %0 = fw.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.concat' axis 2 out of range for rank 2
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.concat' operands {{\[}}(2, 3), (2, 4)] differ off axis 0
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  %0 = fw.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK: 'fw.pad' mode must be one of constant, edge, reflect, wrap
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.pad %a {pads = array<i64: 0, 0, 0, 0>, mode = #fw<pad_mode "circular">, value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.pad' needs 4 non-negative pads, got (0, -1, 0, 0)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.pad %a {pads = array<i64: 0, -1, 0, 0>, mode = #fw<pad_mode "constant">, value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.pad' reflect pads (2, 0, 0, 0) must be smaller than the dims (2, 3)
func.func @f(%a: tensor<2x3xf32>) {
  %0 = fw.pad %a {pads = array<i64: 2, 0, 0, 0>, mode = #fw<pad_mode "reflect">, value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.resize_nearest' takes NCHW and two integer scales >= 1
func.func @f(%a: tensor<1x2x3x3xf32>) {
  %0 = fw.resize_nearest %a {scales = array<i64: 0, 2>} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.max_pool' pads (0, 0, 3, 0) must be smaller than the window (3, 3)
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %0 = fw.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 3, 0>, ceil_mode = false, dilations = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x9x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.resample' needs one matrix per axis, got 1 for [2, 3]
func.func @f(%x: tensor<1x2x4x4xf32>, %m: tensor<8x4xf32>) {
  %0 = fw.resample %x, %m {axes = array<i64: 2, 3>} : (tensor<1x2x4x4xf32>, tensor<8x4xf32>) -> tensor<1x2x8x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.resample' axes [3, 3] must be distinct dims of rank 4
func.func @f(%x: tensor<1x2x4x4xf32>, %m: tensor<8x4xf32>) {
  %0 = fw.resample %x, %m, %m {axes = array<i64: 3, 3>} : (tensor<1x2x4x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<1x2x4x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.resample' matrix of axis 2 must be [out, 4], got (8, 3)
func.func @f(%x: tensor<1x2x4x4xf32>, %m: tensor<8x3xf32>) {
  %0 = fw.resample %x, %m {axes = array<i64: 2>} : (tensor<1x2x4x4xf32>, tensor<8x3xf32>) -> tensor<1x2x8x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'fw.resample' result shape must be (1, 2, 8, 4), got (1, 2, 8, 8)
func.func @f(%x: tensor<1x2x4x4xf32>, %m: tensor<8x4xf32>) {
  %0 = fw.resample %x, %m {axes = array<i64: 2>} : (tensor<1x2x4x4xf32>, tensor<8x4xf32>) -> tensor<1x2x8x8xf32>
  func.return
}
