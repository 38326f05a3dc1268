// RUN: not kaena-opt %s -p convert-tensor-to-inferentia 2>&1 | filecheck %s
// RUN: not kaena-translate %s -o %t.neff 2>&1 | filecheck %s --check-prefix=TRANSLATE

// A use before the definition is refused when the IR is verified, before any pass
// runs (the lowering used to die on it with a KeyError), by both tools.

func.func @main(%c: tensor<4x8xf32> {kaena.name = "c"}) -> (tensor<4x8xf32> {kaena.name = "z"}) {
  %z = ktensor.elementwise "add" %w, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// CHECK: kaena-opt: error: {{.*}}dominance-use-before-def.mlir: invalid IR: 'ktensor.elementwise' operand #0 (%w) is used before it is defined
// CHECK-NOT: KeyError
// TRANSLATE: kaena-translate: error: {{.*}}dominance-use-before-def.mlir: invalid IR: 'ktensor.elementwise' operand #0 (%w) is used before it is defined
