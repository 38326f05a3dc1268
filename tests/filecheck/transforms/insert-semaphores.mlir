// RUN: kaena-opt %s -p inf-insert-semaphores --split-input-file | filecheck %s

// Straight line: DMA -> PE -> ACT -> DMA. One semaphore per (producer,
// consumer) engine pair (pe->act 0, act->dma 5, dma->pe 9, dma->act 10);
// the producer signals after the instruction, the consumer waits for the count.
// The second ACT read of %ps needs no new wait (already waited for count 1).
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<128x8xbf16>
    %y = inf.dram "output" "y" : !inf.dram<16x8xf32>
    %xs = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x8xbf16>
    %ws = inf.alloc {partition = 0 : i64, offset = 64 : i64} : !inf.sbuf<128x16xbf16>
    %ps = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.psum<16x8xf32>
    %o = inf.alloc {partition = 0 : i64, offset = 128 : i64} : !inf.sbuf<16x8xf32>
    inf.dma %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 128, pstride = 8, off = 0, dims = [[8, 1]]> : !inf.sbuf<128x8xbf16>, !inf.dram<128x8xbf16>
    inf.load_stationary %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xbf16>
    inf.matmul %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]> : !inf.psum<16x8xf32>, !inf.sbuf<128x8xbf16>
    inf.activation "relu" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.sbuf<16x8xf32>, !inf.psum<16x8xf32>
    inf.activation "exp" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.sbuf<16x8xf32>, !inf.psum<16x8xf32>
    inf.dma %y <p = 0, n = 16, pstride = 1, off = 0, dims = [[8, 16]]>, %o <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.dram<16x8xf32>, !inf.sbuf<16x8xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         inf.dma %xs
// CHECK-NEXT:    inf.sem_signal "dma" 9
// CHECK-NEXT:    inf.load_stationary %ws
// CHECK-NEXT:    inf.sem_wait "pe" 9, <1>
// CHECK-NEXT:    inf.matmul %ps
// CHECK-NEXT:    inf.sem_signal "pe" 0
// CHECK-NEXT:    inf.sem_wait "act" 0, <1>
// CHECK-NEXT:    inf.activation "relu"
// CHECK-NEXT:    inf.activation "exp"
// CHECK-NEXT:    inf.sem_signal "act" 5
// CHECK-NEXT:    inf.sem_wait "dma" 5, <1>
// CHECK-NEXT:    inf.dma %y
// CHECK-NEXT:  }

// -----

// Loop-carried: the DMA refills %xs which the PE read in the previous trip
// (WAR), so it waits for the PE's count of trip d0 - 1 (<= 0 on the first trip:
// no wait there). The accumulated PSUM is read after the loop: one signal
// after the loop serves the activation.
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<8x256xf32>
    %xs = inf.alloc {partition = 0 : i64, offset = 64 : i64} : !inf.sbuf<128x8xf32>
    %ws = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x16xf32>
    %ps = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.psum<16x8xf32>
    %o = inf.alloc {partition = 0 : i64, offset = 128 : i64} : !inf.sbuf<16x8xf32>
    inf.memset %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 1.0 : f32} : !inf.sbuf<128x16xf32>
    inf.loop 2 {
      inf.dma %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 128, pstride = 1, off = 128*d0, dims = [[8, 256]]> : !inf.sbuf<128x8xf32>, !inf.dram<8x256xf32>
      inf.load_stationary %ws <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>
      inf.matmul %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %xs <p = 0, n = 128, off = 0, dims = [[8, 1]]> {accumulate = #inf.expr<1*d0>} : !inf.psum<16x8xf32>, !inf.sbuf<128x8xf32>
    }
    inf.activation "relu" %o <p = 0, n = 16, off = 0, dims = [[8, 1]]>, %ps <p = 0, n = 16, off = 0, dims = [[8, 1]]> : !inf.sbuf<16x8xf32>, !inf.psum<16x8xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         inf.memset %ws
// CHECK-NEXT:    inf.sem_signal "pool" 6
// CHECK-NEXT:    inf.sem_wait "pe" 6, <1>
// CHECK-NEXT:    inf.loop 2 {
// CHECK-NEXT:      inf.sem_wait "dma" 2, <1*d0>
// CHECK-NEXT:      inf.dma %xs
// CHECK-NEXT:      inf.sem_signal "dma" 9
// CHECK-NEXT:      inf.load_stationary %ws
// CHECK-NEXT:      inf.sem_wait "pe" 9, <1 + 1*d0>
// CHECK-NEXT:      inf.matmul %ps
// CHECK-NEXT:      inf.sem_signal "pe" 2
// CHECK-NEXT:    }
// CHECK-NEXT:    inf.sem_signal "pe" 0
// CHECK-NEXT:    inf.sem_wait "act" 0, <1>
// CHECK-NEXT:    inf.activation "relu"

// -----

// Each trip uses its own slice of %buf (offset 8*d0): the DMA of trip d0
// does not overwrite what the ACT reads in trip d0 - 1, so there is no
// loop-carried wait, only the same-trip RAW dma -> act.
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<32x32xf32>
    %buf = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<32x32xf32>
    %o = inf.alloc {partition = 0 : i64, offset = 128 : i64} : !inf.sbuf<32x32xf32>
    inf.loop 4 {
      inf.dma %buf <p = 0, n = 32, off = 8*d0, dims = [[8, 1]]>, %x <p = 0, n = 32, pstride = 32, off = 8*d0, dims = [[8, 1]]> : !inf.sbuf<32x32xf32>, !inf.dram<32x32xf32>
      inf.activation "exp" %o <p = 0, n = 32, off = 8*d0, dims = [[8, 1]]>, %buf <p = 0, n = 32, off = 8*d0, dims = [[8, 1]]> : !inf.sbuf<32x32xf32>, !inf.sbuf<32x32xf32>
    }
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         inf.loop 4 {
// CHECK-NEXT:      inf.dma %buf
// CHECK-NEXT:      inf.sem_signal "dma" 10
// CHECK-NEXT:      inf.sem_wait "act" 10, <1 + 1*d0>
// CHECK-NEXT:      inf.activation "exp"
// CHECK-NEXT:    }

// -----

// Nested loops: the inner loop is one item of the outer body. The DMA
// overwrites %a which the POOL engine read in the previous outer trip, so it
// waits for the count after the POOL's inner loop of trip d0 - 1.
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<32x64xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<32x64xf32>
    %o = inf.alloc {partition = 32 : i64, offset = 0 : i64} : !inf.sbuf<32x64xf32>
    inf.loop 3 {
      inf.dma %a <p = 0, n = 32, off = 0, dims = [[64, 1]]>, %x <p = 0, n = 32, pstride = 64, off = 0, dims = [[64, 1]]> : !inf.sbuf<32x64xf32>, !inf.dram<32x64xf32>
      inf.loop 4 {
        inf.tensor_scalar "mul" %o <p = 0, n = 32, off = 16*d1, dims = [[16, 1]]>, %a <p = 0, n = 32, off = 16*d1, dims = [[16, 1]]> {imm = 2.0 : f32} : !inf.sbuf<32x64xf32>, !inf.sbuf<32x64xf32>
      }
    }
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         inf.loop 3 {
// CHECK-NEXT:      inf.sem_wait "dma" 8, <1*d0>
// CHECK-NEXT:      inf.dma %a
// CHECK-NEXT:      inf.sem_signal "dma" 11
// CHECK-NEXT:      inf.sem_wait "pool" 11, <1 + 1*d0>
// CHECK-NEXT:      inf.loop 4 {
// CHECK-NEXT:        inf.tensor_scalar "mul"
// CHECK-NEXT:      }
// CHECK-NEXT:      inf.sem_signal "pool" 8
// CHECK-NEXT:    }
