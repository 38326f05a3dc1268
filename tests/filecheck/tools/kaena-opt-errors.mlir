// RUN: not kaena-opt %s -p no-such-pass 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not kaena-opt %s.missing 2>&1 | filecheck %s --check-prefix=FILE
// RUN: kaena-opt %s | filecheck %s --check-prefix=OK

// PASS: kaena-opt: error: Unrecognized passes: ['no-such-pass']
// PASS-NOT: Traceback
// FILE: kaena-opt: error: {{.*}}kaena-opt-errors.mlir.missing: no such file
// OK: ktensor.activation "relu"

func.func @main(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %a = ktensor.activation "relu" %x : (tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %a : tensor<2x8xf32>
}
