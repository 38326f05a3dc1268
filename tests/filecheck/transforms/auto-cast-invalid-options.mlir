// RUN: not kaena-opt %s -p 'auto-cast{mode=most}' 2>&1 | filecheck %s --check-prefix=MODE
// RUN: not kaena-opt %s -p 'auto-cast{type=int8}' 2>&1 | filecheck %s --check-prefix=TYPE

// Bad option values name the allowed ones.

// MODE: kaena-opt: error: auto-cast: mode 'most' is invalid; use one of none, matmult, all
// MODE-NOT: Traceback
// TYPE: kaena-opt: error: auto-cast: type 'int8' is invalid; use one of bf16, fp16
// TYPE-NOT: Traceback

func.func @main(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  func.return %x : tensor<2x8xf32>
}
