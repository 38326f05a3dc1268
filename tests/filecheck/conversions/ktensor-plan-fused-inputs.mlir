// RUN: kaena-opt %s -p ktensor-plan-fused-inputs | filecheck %s
// ktensor-plan-fused-inputs marks the ops that do their first operand's producer themselves
// (kaena.plan.fuse_input): a matmul whose lhs is an f32 -> bf16 cast only it reads (it rounds
// the f32 tiles it loads); a layer norm after a residual add only it reads (it loads both
// operands and adds them). Not fused: a cast with two users, an add that broadcasts.

func.func @main(%x: tensor<8x128xf32> {kaena.name = "x"}, %r: tensor<8x128xf32> {kaena.name = "r"}, %w: tensor<128x64xbf16> {kaena.name = "w"}, %g: tensor<128xf32> {kaena.name = "g"}, %row: tensor<128xf32> {kaena.name = "row"}) -> (tensor<8x64xf32> {kaena.name = "y"}, tensor<8x128xf32> {kaena.name = "n"}, tensor<8x64xf32> {kaena.name = "y2"}, tensor<8x64xf32> {kaena.name = "y3"}, tensor<8x128xf32> {kaena.name = "n2"}) {
  %xb = ktensor.cast %x : (tensor<8x128xf32>) -> tensor<8x128xbf16>
  %y = ktensor.matmul %xb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %s = ktensor.elementwise "add" %x, %r {activation = "none"} : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %n = ktensor.layer_norm %s, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<8x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %rb = ktensor.cast %r : (tensor<8x128xf32>) -> tensor<8x128xbf16>
  %y2 = ktensor.matmul %rb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %y3 = ktensor.matmul %rb, %w {activation = "none"} : (tensor<8x128xbf16>, tensor<128x64xbf16>) -> tensor<8x64xf32>
  %sb = ktensor.elementwise "add" %x, %row {activation = "none"} : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %n2 = ktensor.layer_norm %sb, %g, %g {epsilon = 1.0e-05 : f32} : (tensor<8x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  func.return %y, %n, %y2, %y3, %n2 : tensor<8x64xf32>, tensor<8x128xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x128xf32>
}

// CHECK:      attributes {kaena.plan.done = ["engines", "fused-casts", "epilogues", "fused-inputs"]}
// CHECK:      %xb = ktensor.cast %x :
// CHECK-NEXT: %y = ktensor.matmul %xb, %w {kaena.plan.fuse_input, activation = "none"}
// CHECK-NEXT: %s = ktensor.elementwise "add" %x, %r {activation
// CHECK-NEXT: %n = ktensor.layer_norm %s, %g, %g {kaena.plan.fuse_input, epsilon
// CHECK-NEXT: %rb = ktensor.cast %r :
// CHECK-NEXT: %y2 = ktensor.matmul %rb, %w {activation = "none"}
// CHECK-NEXT: %y3 = ktensor.matmul %rb, %w {activation = "none"}
// CHECK-NEXT: %sb = ktensor.elementwise "add" %x, %row {activation
// CHECK-NEXT: %n2 = ktensor.layer_norm %sb, %g, %g {epsilon
