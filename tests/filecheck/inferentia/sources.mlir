// RUN: kaena-opt %s -p inf-set-target,inf-allocate-sram,inf-insert-semaphores -o %t.mlir
// RUN: kaena-translate %t.mlir --target neff -o %t.neff
// RUN: kaena-run %t.neff --timing-only --stats %t.stats.json | filecheck %s
// RUN: kaena-neff disasm %t.neff | filecheck %s --check-prefix=DIS
// RUN: kaena-neff info %t.neff | filecheck %s --check-prefix=INFO

// Source locations, back half: kaena.source on inf ops reaches the NEFF's
// source table, the simulator's per-node cycles, kaena-run's summary and the
// listing. Loop-unrolled records keep their op's source; semaphores have none.

builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<4x64xf32>
    %y = inf.dram "output" "y" : !inf.dram<4x64xf32>
    %a = inf.alloc {kaena.source = ["conv1"]} : !inf.sbuf<4x64xf32>
    %b = inf.alloc : !inf.sbuf<4x64xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[64, 1]]>, %x <p = 0, n = 4, pstride = 64, off = 0, dims = [[64, 1]]> {kaena.source = ["conv1"]} : !inf.sbuf<4x64xf32>, !inf.dram<4x64xf32>
    inf.loop 4 {
      inf.activation "relu" %b <p = 0, n = 4, off = 16*d0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 16*d0, dims = [[16, 1]]> {kaena.source = ["conv1", "relu1"]} : !inf.sbuf<4x64xf32>, !inf.sbuf<4x64xf32>
    }
    inf.tensor_scalar "mul" %b <p = 0, n = 4, off = 0, dims = [[64, 1]]>, %b <p = 0, n = 4, off = 0, dims = [[64, 1]]> {imm = 2.0 : f32, kaena.source = ["scale"]} : !inf.sbuf<4x64xf32>, !inf.sbuf<4x64xf32>
    inf.dma %y <p = 0, n = 4, pstride = 64, off = 0, dims = [[64, 1]]>, %b <p = 0, n = 4, off = 0, dims = [[64, 1]]> : !inf.dram<4x64xf32>, !inf.sbuf<4x64xf32>
  }
}

// CHECK:      source node (top 3 of 3)          busy cycles  % busy
// CHECK-NEXT:   conv1                                    1076   39.9%
// CHECK-NEXT:   conv1 + relu1                             320   11.9%
// CHECK-NEXT:   scale                                     128    4.7%

// DIS:      neff "{{.*}}" version 1.2
// DIS:        source 0 "conv1"
// DIS-NEXT:   source 1 "conv1", "relu1"
// DIS-NEXT:   source 2 "scale"
// DIS:        engine act  ; 6 instructions
// DIS-NEXT:     0: sem_wait
// DIS-COUNT-4:  activate func=relu {{.*}} src=1  ; conv1 + relu1
// DIS-NEXT:     5: sem_signal sem={{[0-9]+}} tag={{[0-9]+}}{{$}}
// DIS:        engine dma
// DIS-NEXT:     0: dma {{.*}} src=0  ; conv1

// INFO: target: inf1
