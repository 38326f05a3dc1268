// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// The vision operators of the fw dialect round-trip in pretty and generic form.

// CHECK-LABEL: func.func @vision
// CHECK-NEXT: %l = fw.leaky_relu %x {alpha = 1.000000e-01 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %c = fw.clip %l {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %h = fw.hard_sigmoid %c {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %s = fw.hard_swish %h : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %m = fw.max %s, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %n = fw.min %m, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %b = fw.batch_norm %n, %p, %p, %p, %p {epsilon = 1.000000e-05 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT: %cat = fw.concat %b, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT: %pad = fw.pad %cat {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = #fw<pad_mode "reflect">, value = 0.000000e+00 : f32} : (tensor<1x8x8x8xf32>) -> tensor<1x8x10x10xf32>
// CHECK-NEXT: %r = fw.resize_nearest %pad {scales = array<i64: 2, 2>} : (tensor<1x8x10x10xf32>) -> tensor<1x8x20x20xf32>
// CHECK-NEXT: %d = fw.average_pool %r {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, dilations = array<i64: 2, 2>, count_include_pad = false} : (tensor<1x8x20x20xf32>) -> tensor<1x8x18x18xf32>
func.func @vision(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x8x20x20xf32> {
  %l = fw.leaky_relu %x {alpha = 0.1 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c = fw.clip %l {min = 0.0 : f32, max = 6.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %h = fw.hard_sigmoid %c {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = fw.hard_swish %h : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %m = fw.max %s, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %n = fw.min %m, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %b = fw.batch_norm %n, %p, %p, %p, %p {epsilon = 1.0e-5 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %cat = fw.concat %b, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32>
  %pad = fw.pad %cat {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = #fw<pad_mode "reflect">, value = 0.0 : f32} : (tensor<1x8x8x8xf32>) -> tensor<1x8x10x10xf32>
  %r = fw.resize_nearest %pad {scales = array<i64: 2, 2>} : (tensor<1x8x10x10xf32>) -> tensor<1x8x20x20xf32>
  %d = fw.average_pool %r {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, dilations = array<i64: 2, 2>, count_include_pad = false} : (tensor<1x8x20x20xf32>) -> tensor<1x8x18x18xf32>
  func.return %r : tensor<1x8x20x20xf32>
}

// CHECK-LABEL: func.func @resample
// CHECK-NEXT: %y = fw.resample %x, %mh, %mw {axes = array<i64: 2, 3>} : (tensor<1x4x8x8xf32>, tensor<5x8xf32>, tensor<16x8xf32>) -> tensor<1x4x5x16xf32>
func.func @resample(%x: tensor<1x4x8x8xf32>, %mh: tensor<5x8xf32>, %mw: tensor<16x8xf32>) -> tensor<1x4x5x16xf32> {
  %y = fw.resample %x, %mh, %mw {axes = array<i64: 2, 3>} : (tensor<1x4x8x8xf32>, tensor<5x8xf32>, tensor<16x8xf32>) -> tensor<1x4x5x16xf32>
  func.return %y : tensor<1x4x5x16xf32>
}
