// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// Bool inputs and outputs travel as float32 0.0/1.0 masks. and/or are min/max of
// the masks, xor is (a == b) == 0; an int32 input compared directly gets
// kaena.valid_range [-2**24, 2**24] (the FP32 comparison is exact there), and the
// integer max selects the int32 values unconverted.

func.func @main(%a: tensor<4x16xi1> {kaena.name = "a"}, %b: tensor<1x16xi1> {kaena.name = "b"}, %x: tensor<4x16xi32> {kaena.name = "x"}, %y: tensor<4x16xi32> {kaena.name = "y"}) -> (tensor<4x16xi1> {kaena.name = "and"}, tensor<4x16xi1> {kaena.name = "or"}, tensor<4x16xi1> {kaena.name = "xor"}, tensor<4x16xi32> {kaena.name = "max"}) {
  %and = ktensor.logical "and" %a, %b : (tensor<4x16xi1>, tensor<1x16xi1>) -> tensor<4x16xi1>
  %or = ktensor.logical "or" %a, %b : (tensor<4x16xi1>, tensor<1x16xi1>) -> tensor<4x16xi1>
  %xor = ktensor.logical "xor" %a, %b : (tensor<4x16xi1>, tensor<1x16xi1>) -> tensor<4x16xi1>
  %gt = ktensor.compare "greater" %x, %y : (tensor<4x16xi32>, tensor<4x16xi32>) -> tensor<4x16xi1>
  %max = ktensor.select %gt, %x, %y : (tensor<4x16xi1>, tensor<4x16xi32>, tensor<4x16xi32>) -> tensor<4x16xi32>
  func.return %and, %or, %xor, %max : tensor<4x16xi1>, tensor<4x16xi1>, tensor<4x16xi1>, tensor<4x16xi32>
}

// CHECK:      %a = inf.dram "input" "a" : !inf.dram<4x16xf32>
// CHECK-NEXT: %b = inf.dram "input" "b" : !inf.dram<1x16xf32>
// CHECK-NEXT: %x = inf.dram "input" "x" {kaena.valid_range = array<i64: -16777216, 16777217>} : !inf.dram<4x16xi32>
// CHECK-NEXT: %y = inf.dram "input" "y" {kaena.valid_range = array<i64: -16777216, 16777217>} : !inf.dram<4x16xi32>
// CHECK-NEXT: %and = inf.dram "output" "and" : !inf.dram<4x16xf32>
// CHECK-NEXT: %or = inf.dram "output" "or" : !inf.dram<4x16xf32>
// CHECK-NEXT: %xor = inf.dram "output" "xor" : !inf.dram<4x16xf32>
// CHECK-NEXT: %max = inf.dram "output" "max" : !inf.dram<4x16xi32>
// CHECK:      inf.dma %in1_t <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>, %b <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>
// CHECK-NEXT: inf.tensor_tensor "min" %o_t
// CHECK-NEXT: inf.dma %and
// CHECK:      inf.tensor_tensor "max" %o_t_1
// CHECK-NEXT: inf.dma %or
// CHECK:      inf.tensor_tensor "equal" %o_t_2
// CHECK-NEXT: inf.tensor_scalar "equal" %o_t_2 <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]>, %o_t_2 <p = 0, n = 4, off = 0, dims = {{\[\[}}16, 1]]> {imm = 0.000000e+00 : f32}
// CHECK-NEXT: inf.dma %xor
// CHECK:      inf.tensor_tensor "greater" %o_t_3 {{.*}} : !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xi32>, !inf.sbuf<64x1xi32>
// CHECK:      inf.tensor_scalar "bypass" %o_t_4 {{.*}} : !inf.sbuf<64x1xi32>, !inf.sbuf<64x1xi32>
// CHECK-NEXT: inf.select %o_t_4 {{.*}} : !inf.sbuf<64x1xi32>, !inf.sbuf<64x1xf32>, !inf.sbuf<64x1xi32>
// CHECK-NEXT: inf.dma %max
