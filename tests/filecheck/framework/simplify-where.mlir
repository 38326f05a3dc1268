// RUN: kaena-opt %s -p fw-simplify-where | filecheck %s

// Weights: Inputs/mask-weights.npz (all_true 1x4x1, all_false 4, mixed 1x4x1 = [1, 0, 1, 1],
// zero and low = finfo(float32).min scalars).

builtin.module attributes {kaena.weights = "Inputs/mask-weights.npz"} {

// The exporters' softmax guard Where(IsNaN(p), 0, p): the branches swap, the not goes.
// CHECK-LABEL: func.func @nan_guard
// CHECK-NEXT:    %zero = fw.weight "zero"
// CHECK-NEXT:    %same = fw.compare "equal" %p, %p
// CHECK-NEXT:    %y = fw.where %same, %p, %zero {kaena.source = ["where"]} : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
// CHECK-NEXT:    func.return %y
func.func @nan_guard(%p: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %zero = fw.weight "zero" : tensor<f32>
  %same = fw.compare "equal" %p, %p : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xi1>
  %nan = fw.not %same : (tensor<2x4xi1>) -> tensor<2x4xi1>
  %y = fw.where %nan, %zero, %p {kaena.source = ["where"]} : (tensor<2x4xi1>, tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// A not with another use stays for it.
// CHECK-LABEL: func.func @shared_not
// CHECK:         %n = fw.not %c
// CHECK-NEXT:    %y = fw.where %c, %b, %a
// CHECK-NEXT:    func.return %y, %n
func.func @shared_not(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>) {
  %n = fw.not %c : (tensor<4xi1>) -> tensor<4xi1>
  %y = fw.where %n, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y, %n : tensor<4xf32>, tensor<4xi1>
}

// The TorchScript exporter's And(constant mask, padding mask) is where(c, m, false);
// an all-true constant selects m, broadcast to the result (the later mask select names the node).
// CHECK-LABEL: func.func @and_all_true
// CHECK-NEXT:    %a = fw.expand %m {kaena.source = ["and"], shape = array<i64: 2, 4, 4>} : (tensor<2x1x4xi1>) -> tensor<2x4x4xi1>
// CHECK:         %y = fw.where %a, %zero, %low
func.func @and_all_true(%m: tensor<2x1x4xi1>) -> tensor<2x4x4xf32> {
  %t = fw.weight "all_true" : tensor<1x4x1xf32>
  %c = fw.cast %t : (tensor<1x4x1xf32>) -> tensor<1x4x1xi1>
  %f0 = fw.weight "zero" : tensor<f32>
  %f = fw.cast %f0 : (tensor<f32>) -> tensor<i1>
  %a = fw.where %c, %m, %f {kaena.source = ["and"]} : (tensor<1x4x1xi1>, tensor<2x1x4xi1>, tensor<i1>) -> tensor<2x4x4xi1>
  %zero = fw.weight "zero" : tensor<f32>
  %low = fw.weight "low" : tensor<f32>
  %y = fw.where %a, %zero, %low : (tensor<2x4x4xi1>, tensor<f32>, tensor<f32>) -> tensor<2x4x4xf32>
  func.return %y : tensor<2x4x4xf32>
}

// The same And imported as fw.logical: an all-true constant leaves the run-time mask;
// an or with it stays (an or with all-false would fold the same way).
// CHECK-LABEL: func.func @logical_and_all_true
// CHECK-NEXT:    %a = fw.expand %m {kaena.source = ["and"], shape = array<i64: 2, 4, 4>} : (tensor<2x1x4xi1>) -> tensor<2x4x4xi1>
// CHECK-NEXT:    %t2 = fw.weight "all_true"
// CHECK-NEXT:    %c2 = fw.cast %t2
// CHECK-NEXT:    %o = fw.logical "or" %c2, %m
func.func @logical_and_all_true(%m: tensor<2x1x4xi1>) -> (tensor<2x4x4xi1>, tensor<2x4x4xi1>) {
  %t = fw.weight "all_true" : tensor<1x4x1xf32>
  %c = fw.cast %t : (tensor<1x4x1xf32>) -> tensor<1x4x1xi1>
  %a = fw.logical "and" %c, %m {kaena.source = ["and"]} : (tensor<1x4x1xi1>, tensor<2x1x4xi1>) -> tensor<2x4x4xi1>
  %t2 = fw.weight "all_true" : tensor<1x4x1xf32>
  %c2 = fw.cast %t2 : (tensor<1x4x1xf32>) -> tensor<1x4x1xi1>
  %o = fw.logical "or" %c2, %m : (tensor<1x4x1xi1>, tensor<2x1x4xi1>) -> tensor<2x4x4xi1>
  func.return %a, %o : tensor<2x4x4xi1>, tensor<2x4x4xi1>
}

// All false selects the other branch; same shape: an identity.
// CHECK-LABEL: func.func @all_false
// CHECK-NEXT:    %y = fw.identity %b
// CHECK-NEXT:    func.return %y
func.func @all_false(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %w = fw.weight "all_false" : tensor<4xf32>
  %c = fw.cast %w : (tensor<4xf32>) -> tensor<4xi1>
  %y = fw.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// A mixed constant or a run-time condition stays.
// CHECK-LABEL: func.func @kept
// CHECK:         fw.where %c, %m, %m
// CHECK:         fw.where %r, %m, %m
func.func @kept(%m: tensor<2x4x4xf32>, %r: tensor<2x4x4xi1>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>) {
  %w = fw.weight "mixed" : tensor<1x4x1xf32>
  %c = fw.cast %w : (tensor<1x4x1xf32>) -> tensor<1x4x1xi1>
  %y = fw.where %c, %m, %m : (tensor<1x4x1xi1>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %z = fw.where %r, %m, %m : (tensor<2x4x4xi1>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  func.return %y, %z : tensor<2x4x4xf32>, tensor<2x4x4xf32>
}

}
