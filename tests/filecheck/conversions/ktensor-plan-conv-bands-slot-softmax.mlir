// RUN: kaena-opt %s -p ktensor-plan-conv-bands | filecheck %s
// A head conv over a resident input that writes its slot (kaena.plan.slot_writers) takes the
// band plan CostModel.band_loop prices lowest: with the softmax, the transposes and the
// softmax per band, its stores overlapping the next band's compute (8 of 64 rows: the first
// store starts early); the box head's result tiles in two buffers, a band's store
// overlapping the next band (24 rows), where the tallest band that fits (48) would leave the
// queue idle while the first band computes.

func.func @main(%x0: tensor<1x16x64x64xbf16> {kaena.name = "x0"}) -> (tensor<1x8192x21xf32> {kaena.name = "s"}, tensor<1x4096x4xf32> {kaena.name = "b"}) {
  %wf = ktensor.weight "f.w" : tensor<64x16x1x1xbf16>
  %f = ktensor.conv2d %x0, %wf {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "relu"} : (tensor<1x16x64x64xbf16>, tensor<64x16x1x1xbf16>) -> tensor<1x64x64x64xf32>
  %x = ktensor.cast %f : (tensor<1x64x64x64xf32>) -> tensor<1x64x64x64xbf16>
  %w0 = ktensor.weight "h0.w" : tensor<42x64x3x3xbf16>
  %h0 = ktensor.conv2d %x, %w0 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x64x64xbf16>, tensor<42x64x3x3xbf16>) -> tensor<1x42x64x64xf32>
  %t0 = ktensor.transpose %h0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x42x64x64xf32>) -> tensor<1x64x64x42xf32>
  %f0 = ktensor.reshape %t0 : (tensor<1x64x64x42xf32>) -> tensor<1x8192x21xf32>
  %y = ktensor.concat %f0 {axis = 1 : i64} : (tensor<1x8192x21xf32>) -> tensor<1x8192x21xf32>
  %s = ktensor.softmax %y {axis = 2 : i64} : (tensor<1x8192x21xf32>) -> tensor<1x8192x21xf32>
  %wb = ktensor.weight "b0.w" : tensor<4x64x3x3xbf16>
  %hb = ktensor.conv2d %x, %wb {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = "none"} : (tensor<1x64x64x64xbf16>, tensor<4x64x3x3xbf16>) -> tensor<1x4x64x64xf32>
  %tb = ktensor.transpose %hb {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x64x64xf32>) -> tensor<1x64x64x4xf32>
  %fb = ktensor.reshape %tb : (tensor<1x64x64x4xf32>) -> tensor<1x4096x4xf32>
  %b = ktensor.concat %fb {axis = 1 : i64} : (tensor<1x4096x4xf32>) -> tensor<1x4096x4xf32>
  func.return %s, %b : tensor<1x8192x21xf32>, tensor<1x4096x4xf32>
}

// CHECK:      %x = ktensor.cast %f {kaena.plan.resident = array<i64: 1, 1, 1, 1>}
// CHECK:      %h0 = ktensor.conv2d %x, %w0 {kaena.plan.band_rows = 8 : i64, kaena.plan.band_buffers = 1 : i64, kaena.plan.psum_buffers = 2 : i64
// CHECK:      %s = ktensor.softmax %y {kaena.plan.fuse_input, kaena.plan.slot_writers
// CHECK:      %hb = ktensor.conv2d %x, %wb {kaena.plan.band_rows = 24 : i64, kaena.plan.band_buffers = 2 : i64
// CHECK:      %b = ktensor.concat %fb {kaena.plan.fuse_transposes, kaena.plan.slot_writers
