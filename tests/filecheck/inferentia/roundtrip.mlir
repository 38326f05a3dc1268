// RUN: kaena-opt %s | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every inf op, attribute and type, in pretty form; printed pretty and
// through the generic form and back.

builtin.module {
  inf.core 0 attributes {kaena.sbuf_peak_bytes = 4096 : i64} {
    %x = inf.dram "input" "x" : !inf.dram<4x64xf32>
    %w = inf.dram "file" "w" : !inf.dram<64x32xbf16>
    %t = inf.dram "tmp" "t0" : !inf.dram<8x8xf16>
    %y = inf.dram "output" "y" : !inf.dram<32x4xf32>
    %xs = inf.alloc : !inf.sbuf<64x4xf32>
    %ws = inf.alloc {partition = 32 : i64, offset = 128 : i64} : !inf.sbuf<64x32xbf16>
    %ps = inf.alloc : !inf.psum<32x4xf32>
    %o = inf.alloc : !inf.sbuf<32x4xf32>
    %b = inf.alloc : !inf.sbuf<32x1xf32>
    %ids = inf.dram "input" "ids" {kaena.valid_range = array<i64: 0, 30522>} : !inf.dram<1x32xi32>
    %emb = inf.dram "file" "emb" : !inf.dram<100x4xf32>
    %is = inf.alloc : !inf.sbuf<32x1xi32>
    %iw = inf.alloc : !inf.sbuf<32x4xi32>
    inf.loop 2 {
      inf.loop 3 {
        inf.dma %xs <p = 0, n = 64, off = 1*d1, dims = [[2, 1]]>, %x <p = 0, n = 64, pstride = 1, off = 2*d0 - 1*d1 + 3, dims = [[2, 64]]> : !inf.sbuf<64x4xf32>, !inf.dram<4x64xf32>
        inf.sem_signal "dma" 3
        inf.sem_wait "pe" 3, <1 + 3*d0 + 1*d1>
      }
    }
    inf.load_stationary %ws <p = 0, n = 64, off = 0, dims = [[32, 1]]> : !inf.sbuf<64x32xbf16>
    inf.matmul %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %xs <p = 0, n = 64, off = 0, dims = [[4, 1]]> : !inf.psum<32x4xf32>, !inf.sbuf<64x4xf32>
    inf.loop 2 {
      inf.matmul %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %xs <p = 0, n = 64, off = 0, dims = [[4, 1]]> {accumulate = #inf.expr<1*d0>} : !inf.psum<32x4xf32>, !inf.sbuf<64x4xf32>
    }
    inf.activation "relu" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>
    inf.activation "exp" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> bias %b {bias_ap = #inf.ap<p = 0, n = 32, off = 0, dims = [[1, 1]]>, scale = 2.0 : f32, imm = 0.5 : f32} : !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>, !inf.sbuf<32x1xf32>
    inf.tensor_tensor "add" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>
    inf.tensor_scalar "mul" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> {imm = 3.0 : f32} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
    inf.tensor_scalar "sub" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> scalar %b {scalar_ap = #inf.ap<p = 0, n = 32, off = 0, dims = [[1, 1]]>} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x1xf32>
    inf.reduce "max" %b <p = 0, n = 32, off = 0, dims = [[1, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[2, 2], [2, 1]]> {axes = 2 : i64, scale = 0.25 : f32} : !inf.sbuf<32x1xf32>, !inf.sbuf<32x4xf32>
    inf.transpose %xs <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<64x4xf32>, !inf.sbuf<32x4xf32>
    inf.memset %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> {value = -1.5 : f32} : !inf.sbuf<32x4xf32>
    inf.activation "gelu_tanh" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
    inf.activation "erf" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %iw <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>
    inf.activation "log" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
    inf.dma %is <p = 0, n = 32, off = 0, dims = [[1, 1]]>, %ids <p = 0, n = 32, pstride = 1, off = 0, dims = [[1, 1]]> : !inf.sbuf<32x1xi32>, !inf.dram<1x32xi32>
    inf.dma_gather %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %emb <p = 0, n = 100, pstride = 4, off = 0, dims = [[4, 1]]> index %is <p = 0, n = 32, off = 0, dims = [[1, 1]]> : !inf.sbuf<32x4xf32>, !inf.dram<100x4xf32>, !inf.sbuf<32x1xi32>
    inf.tensor_tensor "equal" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %iw <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>
    inf.tensor_scalar "less" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> {imm = 0.5 : f32} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
    inf.tensor_scalar "greater" %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> scalar %b {scalar_ap = #inf.ap<p = 0, n = 32, off = 0, dims = [[1, 1]]>} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x1xf32>
    inf.tensor_scalar "bypass" %iw <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %iw <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xi32>, !inf.sbuf<32x4xi32>
    inf.select %o <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %iw <p = 0, n = 32, off = 0, dims = [[4, 1]]>, %ps <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>, !inf.psum<32x4xf32>
    inf.dma %y <p = 0, n = 32, pstride = 1, off = 0, dims = [[4, 32]]>, %o <p = 0, n = 32, off = 0, dims = [[4, 1]]> : !inf.dram<32x4xf32>, !inf.sbuf<32x4xf32>
  }
}

// CHECK:      inf.core 0 attributes {kaena.sbuf_peak_bytes = 4096 : i64} {
// CHECK-NEXT:   %x = inf.dram "input" "x" : !inf.dram<4x64xf32>
// CHECK-NEXT:   %w = inf.dram "file" "w" : !inf.dram<64x32xbf16>
// CHECK-NEXT:   %t = inf.dram "tmp" "t0" : !inf.dram<8x8xf16>
// CHECK-NEXT:   %y = inf.dram "output" "y" : !inf.dram<32x4xf32>
// CHECK-NEXT:   %xs = inf.alloc : !inf.sbuf<64x4xf32>
// CHECK-NEXT:   %ws = inf.alloc {partition = 32 : i64, offset = 128 : i64} : !inf.sbuf<64x32xbf16>
// CHECK-NEXT:   %ps = inf.alloc : !inf.psum<32x4xf32>
// CHECK-NEXT:   %o = inf.alloc : !inf.sbuf<32x4xf32>
// CHECK-NEXT:   %b = inf.alloc : !inf.sbuf<32x1xf32>
// CHECK-NEXT:   %ids = inf.dram "input" "ids" {kaena.valid_range = array<i64: 0, 30522>} : !inf.dram<1x32xi32>
// CHECK-NEXT:   %emb = inf.dram "file" "emb" : !inf.dram<100x4xf32>
// CHECK-NEXT:   %is = inf.alloc : !inf.sbuf<32x1xi32>
// CHECK-NEXT:   %iw = inf.alloc : !inf.sbuf<32x4xi32>
// CHECK-NEXT:   inf.loop 2 {
// CHECK-NEXT:     inf.loop 3 {
// CHECK-NEXT:       inf.dma %xs <p = 0, n = 64, off = 1*d1, dims = {{\[\[2, 1\]\]}}>, %x <p = 0, n = 64, pstride = 1, off = 3 + 2*d0 - 1*d1, dims = {{\[\[2, 64\]\]}}> : !inf.sbuf<64x4xf32>, !inf.dram<4x64xf32>
// CHECK-NEXT:       inf.sem_signal "dma" 3
// CHECK-NEXT:       inf.sem_wait "pe" 3, <1 + 3*d0 + 1*d1>
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   inf.load_stationary %ws <p = 0, n = 64, off = 0, dims = {{\[\[32, 1\]\]}}> : !inf.sbuf<64x32xbf16>
// CHECK-NEXT:   inf.matmul %ps <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}>, %xs <p = 0, n = 64, off = 0, dims = {{\[\[4, 1\]\]}}> : !inf.psum<32x4xf32>, !inf.sbuf<64x4xf32>
// CHECK-NEXT:   inf.loop 2 {
// CHECK-NEXT:     inf.matmul %ps {{.*}} {accumulate = #inf.expr<1*d0>} : !inf.psum<32x4xf32>, !inf.sbuf<64x4xf32>
// CHECK-NEXT:   }
// CHECK-NEXT:   inf.activation "relu" %o <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}>, %ps <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}> : !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>
// CHECK-NEXT:   inf.activation "exp" %o {{.*}}, %ps {{.*}} bias %b {bias_ap = #inf.ap<p = 0, n = 32, off = 0, dims = {{\[\[1, 1\]\]}}>, scale = 2.000000e+00 : f32, imm = 5.000000e-01 : f32} : !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>, !inf.sbuf<32x1xf32>
// CHECK-NEXT:   inf.tensor_tensor "add" %o {{.*}}, %o {{.*}}, %ps {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.psum<32x4xf32>
// CHECK-NEXT:   inf.tensor_scalar "mul" %o {{.*}}, %o {{.*}} {imm = 3.000000e+00 : f32} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.tensor_scalar "sub" %o {{.*}}, %o {{.*}} scalar %b {scalar_ap = #inf.ap<p = 0, n = 32, off = 0, dims = {{\[\[1, 1\]\]}}>} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x1xf32>
// CHECK-NEXT:   inf.reduce "max" %b {{.*}}, %o <p = 0, n = 32, off = 0, dims = {{\[\[2, 2\], \[2, 1\]\]}}> {axes = 2 : i64, scale = 2.500000e-01 : f32} : !inf.sbuf<32x1xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.transpose %xs <p = 0, n = 4, off = 0, dims = {{\[\[4, 1\]\]}}>, %o <p = 0, n = 4, off = 0, dims = {{\[\[4, 1\]\]}}> : !inf.sbuf<64x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.memset %o <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}> {value = -1.500000e+00 : f32} : !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.activation "gelu_tanh" %o {{.*}}, %o {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.activation "erf" %o {{.*}}, %iw {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>
// CHECK-NEXT:   inf.activation "log" %o {{.*}}, %o {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.dma %is {{.*}}, %ids {{.*}} : !inf.sbuf<32x1xi32>, !inf.dram<1x32xi32>
// CHECK-NEXT:   inf.dma_gather %o <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}>, %emb <p = 0, n = 100, pstride = 4, off = 0, dims = {{\[\[4, 1\]\]}}> index %is <p = 0, n = 32, off = 0, dims = {{\[\[1, 1\]\]}}> : !inf.sbuf<32x4xf32>, !inf.dram<100x4xf32>, !inf.sbuf<32x1xi32>
// CHECK-NEXT:   inf.tensor_tensor "equal" %o {{.*}}, %o {{.*}}, %iw {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>
// CHECK-NEXT:   inf.tensor_scalar "less" %o {{.*}}, %o {{.*}} {imm = 5.000000e-01 : f32} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT:   inf.tensor_scalar "greater" %o {{.*}}, %o {{.*}} scalar %b {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xf32>, !inf.sbuf<32x1xf32>
// CHECK-NEXT:   inf.tensor_scalar "bypass" %iw {{.*}}, %iw {{.*}} : !inf.sbuf<32x4xi32>, !inf.sbuf<32x4xi32>
// CHECK-NEXT:   inf.select %o <p = 0, n = 32, off = 0, dims = {{\[\[4, 1\]\]}}>, %iw {{.*}}, %ps {{.*}} : !inf.sbuf<32x4xf32>, !inf.sbuf<32x4xi32>, !inf.psum<32x4xf32>
// CHECK-NEXT:   inf.dma %y <p = 0, n = 32, pstride = 1, off = 0, dims = {{\[\[4, 32\]\]}}>, %o {{.*}} : !inf.dram<32x4xf32>, !inf.sbuf<32x4xf32>
// CHECK-NEXT: }

// GENERIC:      "inf.core"() <{id = 0 : i64}> ({
// GENERIC:        %x = "inf.dram"() <{kind = "input", name = "x"}> : () -> !inf.dram<4x64xf32>
// GENERIC:        %ws = "inf.alloc"() <{partition = 32 : i64, offset = 128 : i64}> : () -> !inf.sbuf<64x32xbf16>
// GENERIC:        %ps = "inf.alloc"() : () -> !inf.psum<32x4xf32>
// GENERIC:        "inf.loop"() <{trips = 2 : i64}> ({
// GENERIC:          "inf.dma"(%xs, %x) <{dst_ap = #inf.ap<p = 0, n = 64, off = 1*d1, dims = {{\[\[2, 1\]\]}}>, src_ap = #inf.ap<p = 0, n = 64, pstride = 1, off = 3 + 2*d0 - 1*d1, dims = {{\[\[2, 64\]\]}}>}> : (!inf.sbuf<64x4xf32>, !inf.dram<4x64xf32>) -> ()
// GENERIC:          "inf.sem_signal"() <{engine = #inf<engine "dma">, sem = 3 : i64}> : () -> ()
// GENERIC:          "inf.sem_wait"() <{engine = #inf<engine "pe">, sem = 3 : i64, value = #inf.expr<1 + 3*d0 + 1*d1>}> : () -> ()
// GENERIC:        "inf.load_stationary"(%ws) <{stationary_ap = #inf.ap<p = 0, n = 64, off = 0, dims = {{\[\[32, 1\]\]}}>}>
// GENERIC:        "inf.matmul"(%ps, %xs) <{acc_ap = {{.*}}, moving_ap = {{.*}}, accumulate = #inf.expr<1*d0>}>
// GENERIC:        "inf.activation"(%o, %ps, %b) <{func = #inf<act_func "exp">, out_ap = {{.*}}, in_ap = {{.*}}, bias_ap = {{.*}}, scale = 2.000000e+00 : f32, imm = 5.000000e-01 : f32}>
// GENERIC:        "inf.tensor_tensor"(%o, %o, %ps) <{alu = #inf<alu "add">
// GENERIC:        "inf.tensor_scalar"(%o, %o) <{alu = #inf<alu "mul">
// GENERIC:        "inf.tensor_scalar"(%o, %o, %b) <{alu = #inf<alu "sub">
// GENERIC:        "inf.reduce"(%b, %o) <{alu = #inf<alu "max">, {{.*}}axes = 2 : i64
// GENERIC:        "inf.transpose"(%xs, %o)
// GENERIC:        "inf.memset"(%o) <{out_ap = {{.*}}, value = -1.500000e+00 : f32}>
// GENERIC:        "inf.activation"(%o, %o) <{func = #inf<act_func "gelu_tanh">
// GENERIC:        "inf.dma_gather"(%o, %emb, %is) <{dst_ap = {{.*}}, table_ap = #inf.ap<p = 0, n = 100, pstride = 4, off = 0, dims = {{\[\[4, 1\]\]}}>, index_ap = {{.*}}}> : (!inf.sbuf<32x4xf32>, !inf.dram<100x4xf32>, !inf.sbuf<32x1xi32>) -> ()
// GENERIC:        "inf.tensor_tensor"(%o, %o, %iw) <{alu = #inf<alu "equal">
// GENERIC:        "inf.select"(%o, %iw, %ps) <{out_ap = {{.*}}, pred_ap = {{.*}}, on_true_ap = {{.*}}}>
