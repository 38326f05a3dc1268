// RUN: kaena-opt %s -p 'ktensor-partition-pipeline{cores=2}' | filecheck %s

// The calibration a pipeline compile feeds back (docs/pipeline-parallel.md): the
// driver's second partition reads each op's kaena.pipeline.cost_scale (how much
// slower its stage simulated than modelled). Unscaled, two cores split this model
// after %hc (the first layer alone on core 0); with %e 8x slower, %e and the add
// get core 1 to themselves and both earlier layers share core 0.

// CHECK: kaena.pipeline = {cores = 2 : i64
// CHECK:      %h = ktensor.matmul {{.*}}kaena.pipeline.stage = 0 : i64
// CHECK:      %g = ktensor.matmul {{.*}}kaena.pipeline.stage = 0 : i64
// CHECK-NEXT: %gc = ktensor.cast %g {kaena.pipeline.stage = 0 : i64}
// CHECK-NEXT: %e = ktensor.matmul {{.*}}kaena.pipeline.stage = 1 : i64
// CHECK-NEXT: %s = ktensor.elementwise "add" {{.*}}kaena.pipeline.stage = 1 : i64

builtin.module attributes {kaena.weights = "../Inputs/frontend-weights.npz", kaena.target = "inf1"} {
func.func @main(%x: tensor<4x32xbf16> {kaena.name = "x"}) -> (tensor<4x6xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "mm.weight" : tensor<32x6xbf16>
  %b = ktensor.weight "fc.bias" : tensor<6xf32>
  %h = ktensor.matmul %x, %w bias %b {activation = "relu"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xf32>) -> tensor<4x6xf32>
  %hc = ktensor.cast %h : (tensor<4x6xf32>) -> tensor<4x6xbf16>
  %w2 = ktensor.weight "fc.weight" : tensor<6x32xbf16>
  %g = ktensor.matmul %hc, %w2 {activation = "none"} : (tensor<4x6xbf16>, tensor<6x32xbf16>) -> tensor<4x32xf32>
  %gc = ktensor.cast %g : (tensor<4x32xf32>) -> tensor<4x32xbf16>
  %e = ktensor.matmul %gc, %w bias %b {kaena.pipeline.cost_scale = 8.0 : f64, activation = "none"} : (tensor<4x32xbf16>, tensor<32x6xbf16>, tensor<6xf32>) -> tensor<4x6xf32>
  %s = ktensor.elementwise "add" %e, %h {activation = "none"} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}
}
