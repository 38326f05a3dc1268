// fw ops are Pure: xDSL's own dce and cse apply to framework IR.
// RUN: kaena-opt %s -p dce | filecheck %s --check-prefix=DCE
// RUN: kaena-opt %s -p cse | filecheck %s --check-prefix=CSE

// dce drops dead fw ops, whole chains and weights included.
// DCE-LABEL: func.func @dead
// DCE-NEXT:    %r = fw.relu %x
// DCE-NEXT:    func.return %r
func.func @dead(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %w = fw.weight "a" : tensor<2x3xf32>
  %a = fw.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = fw.sigmoid %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = fw.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %r : tensor<2x3xf32>
}

// cse merges identical ops (same operands, properties and attributes, so the
// same kaena.source too); ops of different nodes stay apart.
// CSE-LABEL: func.func @dup
// CSE-NEXT:    %w = fw.weight "a" : tensor<2x3xf32>
// CSE-NEXT:    %a = fw.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CSE-NEXT:    %t = fw.transpose %a {kaena.source = ["t"], perm = array<i64: 1, 0>}
// CSE-NEXT:    %u = fw.transpose %a {kaena.source = ["u"], perm = array<i64: 1, 0>}
// CSE-NEXT:    %s = fw.add %t, %t
// CSE-NEXT:    %v = fw.add %s, %u
// CSE-NEXT:    func.return %v
// DCE-LABEL: func.func @dup
// DCE-COUNT-2: fw.weight
func.func @dup(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %w = fw.weight "a" : tensor<2x3xf32>
  %w2 = fw.weight "a" : tensor<2x3xf32>
  %a = fw.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %b = fw.add %x, %w2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %t = fw.transpose %a {perm = array<i64: 1, 0>, kaena.source = ["t"]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %t2 = fw.transpose %b {perm = array<i64: 1, 0>, kaena.source = ["t"]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %u = fw.transpose %b {perm = array<i64: 1, 0>, kaena.source = ["u"]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %s = fw.add %t, %t2 : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %v = fw.add %s, %u : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %v : tensor<3x2xf32>
}
