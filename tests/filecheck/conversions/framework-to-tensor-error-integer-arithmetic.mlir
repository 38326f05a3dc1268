// RUN: not kaena-opt %s -p convert-framework-to-tensor 2>&1 | filecheck %s
// Integer arithmetic other than max/min is refused: the engines compute in float32
// and write int32 only by moving it.

func.func @main(%x: tensor<4xi32>, %y: tensor<4xi32>) -> tensor<4xi32> {
  %z = fw.add %x, %y : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  func.return %z : tensor<4xi32>
}

// CHECK: kaena-opt: error: {{.*}}add of i32 values: the engines compute in float32 and write integers only by moving them
// CHECK-NOT: Traceback
