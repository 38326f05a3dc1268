// RUN: kaena-opt %s -p inf-connect-pipeline | filecheck %s

// Core 0 writes "pipe.0.h.s1" in a loop of 2 trips and then "pipe.1.k.s1"; core 1
// reads both. Every write becomes a send raising core 1's semaphore 31 (the highest
// one core 1's engines leave free); core 1's DMA queue waits before its first read
// of each: for 2 sends ("h" is complete), then for 3 ("k" too).

builtin.module attributes {kaena.target = "inf1"} {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<16xf32>
    %h = inf.dram "output" "pipe.0.h.s1" : !inf.dram<16xf32>
    %k = inf.dram "output" "pipe.1.k.s1" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xf32>
    inf.loop 2 {
      inf.dma %h <p = 0, n = 2, pstride = 4, off = 8*d0, dims = [[4, 1]]>, %a <p = 2*d0, n = 2, off = 0, dims = [[4, 1]]> : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
    }
    inf.dma %k <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
  inf.core 1 {
    %h = inf.dram "input" "pipe.0.h.s1" : !inf.dram<16xf32>
    %k = inf.dram "input" "pipe.1.k.s1" : !inf.dram<16xf32>
    %y = inf.dram "output" "y" : !inf.dram<16xf32>
    %z = inf.dram "output" "z" : !inf.dram<16xf32>
    inf.sem_signal "act" 30
    inf.dma %y <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %h <p = 0, n = 1, off = 0, dims = [[16, 1]]> : !inf.dram<16xf32>, !inf.dram<16xf32>
    inf.dma %z <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %k <p = 0, n = 1, off = 0, dims = [[16, 1]]> : !inf.dram<16xf32>, !inf.dram<16xf32>
  }
}

// CHECK:      inf.core 0 {
// CHECK:        inf.dma %a {{.*}}, %x
// CHECK-NEXT:   inf.loop 2 {
// CHECK-NEXT:     inf.dma_send %h <p = 0, n = 2, pstride = 4, off = 8*d0, dims = {{\[\[4, 1\]\]}}>, %a {{.*}} to core 1 sem 31
// CHECK-NEXT:   }
// CHECK-NEXT:   inf.dma_send %k {{.*}} to core 1 sem 31
// CHECK:      inf.core 1 {
// CHECK:        inf.sem_signal "act" 30
// CHECK-NEXT:   inf.sem_wait "dma" 31, <2>
// CHECK-NEXT:   inf.dma %y {{.*}}, %h
// CHECK-NEXT:   inf.sem_wait "dma" 31, <3>
// CHECK-NEXT:   inf.dma %z {{.*}}, %k
