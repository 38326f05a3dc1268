// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// A pointwise op whose operands are resident and whose result only a batch join reads
// (ktensor-split-batch's concat along the batch) may write that result to DRAM straight
// from the resident tiles (pointwise.py `_resident_to_dram`): per image and channel tile
// the vector engine adds into one staging tile, the scalar engine applies the activation
// there, one DMA stores it. The residual operands stay in SBUF (the plan here keeps
// %p and %q resident and %s in DRAM, as the residency planner does when the joined batch
// does not fit); the join then copies the DRAM samples.

func.func @main(%x: tensor<1x16x8x8xf32> {kaena.name = "x"}, %z: tensor<1x16x8x8xf32> {kaena.name = "z"}) -> (tensor<2x16x8x8xf32> {kaena.name = "y"}) attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs", "bias-table", "attention", "matmul-streams", "residency"]} {
  %w = ktensor.weight "w" : tensor<16x16x1x1xf32>
  %p = ktensor.conv2d %x, %w {kaena.plan.resident = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x8x8xf32>
  %q = ktensor.conv2d %p, %w {kaena.plan.resident = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x8x8xf32>
  %s = ktensor.elementwise "add" %p, %q {activation = "relu"} : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %j = ktensor.concat %s, %z {axis = 0 : i64} : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  func.return %j : tensor<2x16x8x8xf32>
}

// CHECK:      %t0 = inf.dram "tmp" "t0" : !inf.dram<1x16x8x8xf32>
// CHECK:      %p_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x64xf32>
// CHECK:      %q_sb = inf.alloc {kaena.resident} : !inf.sbuf<16x64xf32>
// CHECK-NOT:  %s_sb
// CHECK:      %o_t = inf.alloc : !inf.sbuf<16x64xf32>
// CHECK-NEXT: inf.tensor_tensor "add" %o_t <p = 0, n = 16, off = 0, dims = {{\[\[}}64, 1]]>, %p_sb <{{.*}}>, %q_sb <{{.*}}>
// CHECK-NEXT: inf.activation "relu" %o_t <{{.*}}>, %o_t <{{.*}}>
// CHECK-NEXT: inf.dma %t0 <p = 0, n = 16, pstride = 64, off = 0, dims = {{\[\[}}64, 1]]>, %o_t <p = 0, n = 16, off = 0, dims = {{\[\[}}64, 1]]>
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 0, {{.*}}>, %t0
// CHECK-NEXT: inf.dma %y <p = 0, n = 1, off = 1024, {{.*}}>, %z
