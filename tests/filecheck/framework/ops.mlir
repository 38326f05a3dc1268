// RUN: kaena-opt %s | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s

// Every fw op prints and parses back, in pretty and generic form.

func.func @ops(%x: tensor<1x3x8x8xf32>, %v: tensor<4x6xf32>, %b: tensor<2x4x6xf32>) -> tensor<4x6xf32> {
  // CHECK:      %w = fw.weight "conv.weight" : tensor<8x3x3x3xf32>
  // CHECK-NEXT: %c = fw.weight "conv.bias" : tensor<8xf32>
  // CHECK-NEXT: %conv = fw.conv %x, %w, %c {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK-NEXT: %conv_nobias = fw.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32>
  // CHECK-NEXT: %gw = fw.weight "dw.weight" : tensor<3x1x3x3xf32>
  // CHECK-NEXT: %dw = fw.conv %x, %gw {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 3 : i64} : (tensor<1x3x8x8xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x4x4xf32>
  %w = fw.weight "conv.weight" : tensor<8x3x3x3xf32>
  %c = fw.weight "conv.bias" : tensor<8xf32>
  %conv = fw.conv %x, %w, %c {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %conv_nobias = fw.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32>
  %gw = fw.weight "dw.weight" : tensor<3x1x3x3xf32>
  %dw = fw.conv %x, %gw {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 3 : i64} : (tensor<1x3x8x8xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x4x4xf32>

  // CHECK-NEXT: %r = fw.relu %conv : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK-NEXT: %s = fw.sigmoid %r : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK-NEXT: %t = fw.tanh %s : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK-NEXT: %i = fw.identity %t : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %r = fw.relu %conv : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %s = fw.sigmoid %r : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %t = fw.tanh %s : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %i = fw.identity %t : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>

  // CHECK-NEXT: %mp = fw.max_pool %i {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  // CHECK-NEXT: %mpc = fw.max_pool %i {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  // CHECK-NEXT: %ap = fw.average_pool %i {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  // CHECK-NEXT: %gp = fw.global_average_pool %ap : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %mp = fw.max_pool %i {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %mpc = fw.max_pool %i {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %ap = fw.average_pool %i {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
  %gp = fw.global_average_pool %ap : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>

  // CHECK-NEXT: %f = fw.flatten %mp {axis = 1 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32>
  // CHECK-NEXT: %f0 = fw.flatten %mp {axis = 0 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32>
  // CHECK-NEXT: %fn = fw.flatten %mp {axis = -1 : i64} : (tensor<1x8x4x4xf32>) -> tensor<32x4xf32>
  // CHECK-NEXT: %rs = fw.reshape %f {shape = array<i64: 4, 32>} : (tensor<1x128xf32>) -> tensor<4x32xf32>
  // CHECK-NEXT: %tr = fw.transpose %b {perm = array<i64: 2, 0, 1>} : (tensor<2x4x6xf32>) -> tensor<6x2x4xf32>
  %f = fw.flatten %mp {axis = 1 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32>
  %f0 = fw.flatten %mp {axis = 0 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32>
  %fn = fw.flatten %mp {axis = -1 : i64} : (tensor<1x8x4x4xf32>) -> tensor<32x4xf32>
  %rs = fw.reshape %f {shape = array<i64: 4, 32>} : (tensor<1x128xf32>) -> tensor<4x32xf32>
  %tr = fw.transpose %b {perm = array<i64: 2, 0, 1>} : (tensor<2x4x6xf32>) -> tensor<6x2x4xf32>

  // CHECK-NEXT: %fw = fw.weight "fc.weight" : tensor<6x32xf32>
  // CHECK-NEXT: %fb = fw.weight "fc.bias" : tensor<6xf32>
  // CHECK-NEXT: %g = fw.gemm %rs, %fw, %fb {alpha = 1.000000e+00 : f32, beta = 1.000000e+00 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %g2 = fw.gemm %rs, %fw {alpha = 5.000000e-01 : f32, beta = 0.000000e+00 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %g3 = fw.gemm %g2, %rs, %fw {alpha = 1.000000e+00 : f32, beta = 2.000000e+00 : f32, trans_a = true, trans_b = false} : (tensor<4x6xf32>, tensor<4x32xf32>, tensor<6x32xf32>) -> tensor<6x32xf32>
  %fw = fw.weight "fc.weight" : tensor<6x32xf32>
  %fb = fw.weight "fc.bias" : tensor<6xf32>
  %g = fw.gemm %rs, %fw, %fb {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %g2 = fw.gemm %rs, %fw {alpha = 0.5 : f32, beta = 0.0 : f32, trans_a = false, trans_b = true} : (tensor<4x32xf32>, tensor<6x32xf32>) -> tensor<4x6xf32>
  %g3 = fw.gemm %g2, %rs, %fw {alpha = 1.0 : f32, beta = 2.0 : f32, trans_a = true, trans_b = false} : (tensor<4x6xf32>, tensor<4x32xf32>, tensor<6x32xf32>) -> tensor<6x32xf32>

  // CHECK-NEXT: %mm = fw.matmul %b, %g3 : (tensor<2x4x6xf32>, tensor<6x32xf32>) -> tensor<2x4x32xf32>
  // CHECK-NEXT: %mv = fw.matmul %v, %fb : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4xf32>
  %mm = fw.matmul %b, %g3 : (tensor<2x4x6xf32>, tensor<6x32xf32>) -> tensor<2x4x32xf32>
  %mv = fw.matmul %v, %fb : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4xf32>

  // CHECK-NEXT: %a = fw.add %g, %fb : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %sb = fw.sub %a, %b : (tensor<4x6xf32>, tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  // CHECK-NEXT: %ml = fw.mul %g, %g2 : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: %dv = fw.div %ml, %gp : (tensor<4x6xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x6xf32>
  // CHECK-NEXT: %sm = fw.softmax %ml {axis = -1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  // CHECK-NEXT: func.return %sm : tensor<4x6xf32>
  %a = fw.add %g, %fb : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %sb = fw.sub %a, %b : (tensor<4x6xf32>, tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %ml = fw.mul %g, %g2 : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  %dv = fw.div %ml, %gp : (tensor<4x6xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x6xf32>
  %sm = fw.softmax %ml {axis = -1 : i64} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %sm : tensor<4x6xf32>
}
