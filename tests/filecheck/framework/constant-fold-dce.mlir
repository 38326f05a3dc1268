// RUN: kaena-opt %s -p fw-constant-fold | filecheck %s
// RUN: kaena-opt %s -p fw-dce | filecheck %s --check-prefix=DCE

builtin.module attributes {kaena.weights = "Inputs/fw-weights.npz"} {

// Arithmetic and layout on weights fold into one derived weight; ops on
// activations stay.
// CHECK-LABEL: func.func @fold
// CHECK-NEXT:    %t = fw.weight "t.{{[0-9a-f]+}}" : tensor<3x2xf32>
// CHECK-NEXT:    %y = fw.add %x, %t : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:    func.return %y
// DCE-LABEL: func.func @fold
// DCE-NOT:     %dead
// DCE:         %t = fw.transpose
func.func @fold(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %a = fw.weight "a" : tensor<2x3xf32>
  %b = fw.weight "b" : tensor<3xf32>
  %s = fw.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %dead = fw.weight "b" : tensor<3xf32>
  %t = fw.transpose %s {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = fw.add %x, %t : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}

// Dead chains go entirely, weights included; used ops stay.
// DCE-LABEL: func.func @dead_chain
// DCE-NEXT:    %r = fw.relu %x
// DCE-NEXT:    func.return %r
func.func @dead_chain(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %a = fw.weight "a" : tensor<2x3xf32>
  %u = fw.add %x, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %v = fw.sigmoid %u : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = fw.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %r : tensor<2x3xf32>
}
}
