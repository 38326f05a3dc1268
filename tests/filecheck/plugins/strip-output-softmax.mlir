// The plugin from docs/examples, loaded by path.
// RUN: kaena-opt %s --load-pass-plugin %S/../../../docs/examples/strip_output_softmax.py -p strip-output-softmax | filecheck %s
// RUN: not kaena-opt %s --load-pass-plugin %S/no_such_plugin.py -p strip-output-softmax 2>&1 | filecheck %s --check-prefix=MISSING

// CHECK-LABEL: func.func @main
// CHECK:         %[[Y:.*]] = ktensor.matmul
// CHECK-NOT:     ktensor.softmax
// CHECK:         func.return %[[Y]], %[[S:.*]] :
// CHECK-LABEL: func.func @inner
// CHECK:         ktensor.softmax
// MISSING: kaena-opt: error: {{.*}}no_such_plugin.py: pass plugin not found

func.func @main(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %y = ktensor.matmul %x, %w {activation = "none"} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %s = ktensor.softmax %y {axis = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %t = ktensor.activation "relu" %y : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %s, %t : tensor<2x4xf32>, tensor<2x4xf32>
}

// A softmax that feeds other ops stays.
func.func @inner(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = ktensor.softmax %x {axis = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = ktensor.activation "relu" %s : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}
