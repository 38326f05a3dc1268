// RUN: kaena-opt %s | filecheck %s
// RUN: kaena-opt %s --print-op-generic | kaena-opt | filecheck %s
// RUN: kaena-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// Two pipeline cores: core 0 sends "pipe.0.h.s1" to core 1 and raises its semaphore 31.
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<16xf32>
    %h = inf.dram "output" "pipe.0.h.s1" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xf32>
    inf.dma_send %h <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 1 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
  inf.core 1 {
    %h = inf.dram "input" "pipe.0.h.s1" : !inf.dram<16xf32>
    %y = inf.dram "output" "y" : !inf.dram<16xf32>
    inf.sem_wait "dma" 31, <1>
    inf.dma %y <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %h <p = 0, n = 1, off = 0, dims = [[16, 1]]> : !inf.dram<16xf32>, !inf.dram<16xf32>
  }
}

// CHECK:      inf.core 0 {
// CHECK:        inf.dma_send %h <p = 0, n = 4, pstride = 4, off = 0, dims = {{\[\[4, 1\]\]}}>, %a <p = 0, n = 4, off = 0, dims = {{\[\[4, 1\]\]}}> to core 1 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
// CHECK:      inf.core 1 {
// CHECK:        inf.sem_wait "dma" 31, <1>

// GENERIC: "inf.dma_send"(%h, %a) <{dst_ap = {{.*}}, src_ap = {{.*}}, to_core = 1 : i64, sem = 31 : i64}> : (!inf.dram<16xf32>, !inf.sbuf<4x4xf32>) -> ()
