// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The transformer functions are the scalar engine's own: one ACTIVATE each.

func.func @main(%x: tensor<4x32xf32> {kaena.name = "x"}) -> (tensor<4x32xf32> {kaena.name = "y"}) {
  %0 = ktensor.activation "erf" %x : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %1 = ktensor.activation "gelu_tanh" %0 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %2 = ktensor.activation "log" %1 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %3 = ktensor.activation "sqrt" %2 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %4 = ktensor.activation "rsqrt" %3 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %5 = ktensor.activation "reciprocal" %4 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %6 = ktensor.activation "square" %5 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  %y = ktensor.activation "neg" %6 : (tensor<4x32xf32>) -> tensor<4x32xf32>
  func.return %y : tensor<4x32xf32>
}

// CHECK:      inf.activation "erf" %o_t <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "gelu_tanh" %o_t_1 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_1 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "log" %o_t_2 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_2 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "sqrt" %o_t_3 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_3 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "rsqrt" %o_t_4 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_4 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "reciprocal" %o_t_5 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_5 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "square" %o_t_6 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_6 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK:      inf.activation "neg" %o_t_7 <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %in0_t_7 <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x1xf32>, !inf.sbuf<128x1xf32>
// CHECK-NOT:  inf.activation
