// mlir-opt's expected-error annotations under --verify-diagnostics: a chunk that
// has one must fail with that diagnostic, or kaena-opt fails.
// RUN: not kaena-opt %s --verify-diagnostics --split-input-file 2>&1 | filecheck %s

// CHECK: #inf.ap needs at least one partition
// CHECK: kaena-opt: error: {{.*}}kaena-opt-expected-error.mlir: --verify-diagnostics: chunk 2 expected the error 'something else entirely' but got: #inf.ap needs at least one partition; chunk 3 expected the error 'a diagnostic that never comes' but passed

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    // expected-error {{needs at least one partition}}
    inf.memset %a <p = 0, n = 0, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    // expected-error {{something else entirely}}
    inf.memset %a <p = 0, n = 0, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// -----

builtin.module {
  // expected-error {{a diagnostic that never comes}}
}
