// Weights that passes derive are saved beside kaena-opt's output, so the
// output can be processed further in another process.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kaena-opt %s -p auto-cast -o %t/cast.mlir
// RUN: filecheck %s --input-file %t/cast.mlir
// RUN: kaena-opt %t/cast.mlir -p convert-tensor-to-inferentia,inf-allocate-sram,inf-insert-semaphores -o %t/inf.mlir
// RUN: kaena-translate %t/inf.mlir --target neff -o %t/m.neff
// RUN: kaena-opt %s -p auto-cast 2>&1 >/dev/null | filecheck %s --check-prefix=WARN

// CHECK: kaena.weights = "cast.weights.npz"
// CHECK: ktensor.weight "mm.weight.{{[0-9a-f]+}}" : tensor<32x6xbf16>
// WARN: kaena-opt: warning: passes derived 1 weight(s) that exist only in memory; use -o FILE to save them beside the output

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz"} {
  func.func @main(%v: tensor<4x32xf32> {kaena.name = "v"}) -> (tensor<4x6xf32> {kaena.name = "y"}) {
    %fw = ktensor.weight "mm.weight" : tensor<32x6xf32>
    %m = ktensor.matmul %v, %fw {activation = "relu"} : (tensor<4x32xf32>, tensor<32x6xf32>) -> tensor<4x6xf32>
    func.return %m : tensor<4x6xf32>
  }
}
