// Malformed pipelines, directories and binary files: one line each, exit 1, no traceback.
// RUN: not kaena-opt %s -p 'auto-cast{mode=' 2>&1 | filecheck %s --check-prefix=VALUE
// RUN: not kaena-opt %s -p 'auto-cast{' 2>&1 | filecheck %s --check-prefix=OPEN
// RUN: not kaena-opt %s -p ',,' 2>&1 | filecheck %s --check-prefix=EMPTY
// RUN: not kaena-opt %s -p ' ' 2>&1 | filecheck %s --check-prefix=EMPTY
// RUN: not kaena-opt %inputs 2>&1 | filecheck %s --check-prefix=DIR
// RUN: not kaena-opt %inputs/frontend-weights.npz 2>&1 | filecheck %s --check-prefix=BINARY

// VALUE: kaena-opt: error: pass pipeline 'auto-cast{mode=': unknown argument value{{.*}} at column 16
// VALUE-NOT: Traceback
// OPEN: kaena-opt: error: pass pipeline 'auto-cast{': expected argument name here at column 11
// EMPTY: kaena-opt: error: pass pipeline '{{,,| }}': expected pass name here at column 1
// EMPTY-NOT: Traceback
// DIR: kaena-opt: error: {{.*}}Inputs: is a directory; give an IR file (.mlir)
// BINARY: kaena-opt: error: {{.*}}frontend-weights.npz: not an IR text file (byte {{[0-9]+}} is not UTF-8)

func.func @main(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  func.return %x : tensor<2x8xf32>
}
