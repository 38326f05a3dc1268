// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// The drains of residual adds (kaena.plan.residual_add) where the skip lives in DRAM (%a has
// a reshape reader, which reads DRAM): %c's drain loads the skip's band into its result band,
// adds the PSUM tile to it on the vector engine, then applies the bias and relu over it on the
// scalar engine and stores the sum; %d's add writes a BF16 cast (kaena.plan.fuse_cast), so
// the skip's band takes an FP32 tile of its own and the drain rounds once into the resident
// result %tb_sb. No elementwise pass over the sums remains.

func.func @main(%x: tensor<1x64x8x8xf32> {kaena.name = "x"}) -> (tensor<1x64x8x8xbf16> {kaena.name = "y"}, tensor<1x4096xf32> {kaena.name = "f"}) {
  %w1 = ktensor.weight "w1" : tensor<64x64x1x1xf32>
  %a = ktensor.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %f = ktensor.reshape %a : (tensor<1x64x8x8xf32>) -> tensor<1x4096xf32>
  %b = ktensor.conv2d %a, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %c = ktensor.conv2d %b, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x8x8xf32>
  %s = ktensor.elementwise "add" %a, %c {activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32>
  %sb = ktensor.cast %s : (tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xbf16>
  %w2 = ktensor.weight "w2" : tensor<64x64x1x1xbf16>
  %d = ktensor.conv2d %sb, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xbf16>, tensor<64x64x1x1xbf16>) -> tensor<1x64x8x8xf32>
  %t = ktensor.elementwise "add" %s, %d {activation = "relu"} : (tensor<1x64x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32>
  %tb = ktensor.cast %t : (tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xbf16>
  %y = ktensor.conv2d %tb, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x8x8xbf16>, tensor<64x64x1x1xbf16>) -> tensor<1x64x8x8xf32>
  %yb = ktensor.cast %y : (tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xbf16>
  func.return %yb, %f : tensor<1x64x8x8xbf16>, tensor<1x4096xf32>
}

// CHECK:      %t0 = inf.dram "tmp" "t0" : !inf.dram<1x64x8x8xf32>
// CHECK-NEXT: %t1 = inf.dram "tmp" "t1" : !inf.dram<1x64x8x8xf32>
// CHECK:      inf.dma %o_t_1 <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %t0 <p = 0, n = 64, pstride = 64, off = 0, dims = [[64, 1]]>
// CHECK:      inf.matmul %ps_2
// CHECK-NEXT: inf.tensor_tensor "add" %o_t_1 <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>, %ps_2 <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %o_t_1 <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>
// CHECK-NEXT: inf.activation "relu" %o_t_1 <{{.*}}>, %o_t_1 <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>
// CHECK-NEXT: inf.dma %t1 <p = 0, n = 64, pstride = 64, off = 0, dims = [[64, 1]]>, %o_t_1
// CHECK:      %tb_sb = inf.alloc {kaena.resident} : !inf.sbuf<64x64xbf16>
// CHECK:      %s_t = inf.alloc : !inf.sbuf<64x64xf32>
// CHECK:      inf.dma %s_t <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %t1 <p = 0, n = 64, pstride = 64, off = 0, dims = [[64, 1]]>
// CHECK:      inf.tensor_tensor "add" %s_t <{{.*}}>, %ps_3 <{{.*}}>, %s_t <{{.*}}>
// CHECK-NEXT: inf.activation "relu" %tb_sb <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>, %s_t <p = 0, n = 64, off = 0, dims = [[8, 8], [8, 1]]>
// CHECK-NOT:  inf.tensor_tensor "add"
