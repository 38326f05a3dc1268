// RUN: kaena-opt %s --verify-diagnostics --split-input-file | filecheck %s

// SSA dominance (dialects/dominance.py; xDSL's parser takes forward references and its
// verifier does not check them): a value is usable only after its definition, in its
// block or a region that block encloses, and never inside the op that defines it.

func.func @main(%c: tensor<4x8xf32> {kaena.name = "c"}) -> (tensor<4x8xf32> {kaena.name = "z"}) {
  // expected-error {{'ktensor.elementwise' operand #0 (%w) is used before it is defined}}
  %z = ktensor.elementwise "add" %w, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// CHECK: 'ktensor.elementwise' operand #0 (%w) is used before it is defined

// -----

func.func @main(%c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error {{'ktensor.elementwise' operand #1 (%z) is used before it is defined}}
  %z = ktensor.elementwise "add" %c, %z {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// CHECK: 'ktensor.elementwise' operand #1 (%z) is used before it is defined

// -----

builtin.module {
  inf.core 0 {
    inf.loop 2 {
      // expected-error {{'inf.memset' operand #0 (%t) is defined inside 'inf.loop', in a region or block that does not enclose or dominate this use}}
      inf.memset %t <p = 0, n = 4, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
    }
    inf.loop 2 {
      %t = inf.alloc : !inf.sbuf<4x4xf32>
    }
  }
}

// CHECK: 'inf.memset' operand #0 (%t) is defined inside 'inf.loop', in a region or block that does not enclose or dominate this use

// -----

builtin.module {
  inf.core 0 {
    inf.loop 2 {
      // expected-error {{'inf.memset' operand #0 (%t) is used before it is defined}}
      inf.memset %t <p = 0, n = 4, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
    }
    %t = inf.alloc : !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.memset' operand #0 (%t) is used before it is defined

// -----

func.func @main(%c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  func.return %c : tensor<4x8xf32>
^second:
  // expected-error {{'func.return' operand #0 (%w) is defined inside 'func.func', in a region or block that does not enclose or dominate this use}}
  func.return %w : tensor<4x8xf32>
^third:
  %w = ktensor.elementwise "add" %c, %c {activation = "none"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %w : tensor<4x8xf32>
}

// CHECK: 'func.return' operand #0 (%w) is defined inside 'func.func', in a region or block that does not enclose or dominate this use

// -----

// Valid: a value from an enclosing block, a block argument, an op's result after it.
builtin.module {
  inf.core 0 {
    %t = inf.alloc : !inf.sbuf<4x4xf32>
    inf.loop 2 {
      inf.memset %t <p = 0, n = 4, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
    }
  }
}

// CHECK: inf.loop 2 {
// CHECK-NEXT: inf.memset %t
