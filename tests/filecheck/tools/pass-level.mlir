// RUN: not kaena-opt %s -p inf-allocate-sram 2>&1 | filecheck %s --check-prefix=INF
// RUN: not kaena-opt %s -p fw-dce 2>&1 | filecheck %s --check-prefix=FW
// RUN: not kaena-opt %s -p convert-framework-to-tensor 2>&1 | filecheck %s --check-prefix=CONVERT
// RUN: kaena-opt %s -p convert-tensor-to-inferentia | not kaena-opt -p ktensor-plan-engines 2>&1 | filecheck %s --check-prefix=LATE
// RUN: kaena-opt %s -p ktensor-fuse-bias-activation,inf-set-target,convert-tensor-to-inferentia,inf-allocate-sram | filecheck %s --check-prefix=OK

// A pass run on a module holding none of the ops it works on (its level, declared in
// kaena/registry.py's PASS_LEVELS) is refused instead of silently doing nothing. A pass
// of the right level that finds nothing to rewrite (fuse-bias-activation here) is fine,
// and so is inf-set-target, which works at any level.

func.func @main(%c: tensor<4x8xf32> {kaena.name = "c"}) -> (tensor<4x8xf32> {kaena.name = "z"}) {
  %z = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// INF: kaena-opt: error: {{.*}}pass-level.mlir: inf-allocate-sram: nothing to do: it works on inf ops and this module has none (it is at the ktensor level; run convert-tensor-to-inferentia first)
// FW: kaena-opt: error: {{.*}}pass-level.mlir: fw-dce: nothing to do: it works on fw ops and this module has none (it is at the ktensor level; fw-dce runs before convert-framework-to-tensor)
// CONVERT: kaena-opt: error: {{.*}}convert-framework-to-tensor: nothing to do: it works on fw ops and this module has none (it is at the ktensor level, already converted)
// LATE: kaena-opt: error: stdin: ktensor-plan-engines: nothing to do: it works on ktensor ops and this module has none (it is at the inf level; ktensor-plan-engines runs before convert-tensor-to-inferentia)
// OK: inf.core 0
// OK: inf.alloc {partition = 0
