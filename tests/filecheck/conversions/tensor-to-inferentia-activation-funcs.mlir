// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Parametrised activations as scalar/vector sequences: leaky_relu = max(x, a*x); clip = vector max/min;
// hard_sigmoid = min(relu(a*x + b), 1) with the scale and bias on the scalar engine; hard_swish = x * that.

func.func @main(%x: tensor<4x16xf32> {kaena.name = "x"}) -> (tensor<4x16xf32> {kaena.name = "a"}, tensor<4x16xf32> {kaena.name = "b"}, tensor<4x16xf32> {kaena.name = "c"}, tensor<4x16xf32> {kaena.name = "d"}) {
  %a = ktensor.activation "leaky_relu" %x {alpha = 0.125 : f32} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %b = ktensor.activation "clip" %x {alpha = -1.0 : f32, beta = 2.0 : f32} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %c = ktensor.activation "hard_sigmoid" %x {alpha = 0.25 : f32, beta = 0.5 : f32} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %d = ktensor.activation "hard_swish" %x : (tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %a, %b, %c, %d : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// CHECK: inf.tensor_scalar "mul" %o_t <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = 1.250000e-01 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_tensor "max" %o_t <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %o_t <p = 0, n = 64, off = 0, dims = [[1, 1]]> : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_scalar "max" %o_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = -1.000000e+00 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_scalar "min" %o_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %o_t_1 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = 2.000000e+00 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.activation "relu" %o_t_2 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t_2 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {scale = 2.500000e-01 : f32, imm = 5.000000e-01 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_scalar "min" %o_t_2 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %o_t_2 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = 1.000000e+00 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.activation "relu" %o_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {scale = 0.166666672 : f32, imm = 5.000000e-01 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_scalar "min" %o_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %o_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]> {imm = 1.000000e+00 : f32} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
// CHECK: inf.tensor_tensor "mul" %o_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %o_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]>, %in0_t_3 <p = 0, n = 64, off = 0, dims = [[1, 1]]> : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xf32>
