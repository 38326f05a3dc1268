// RUN: kaena-opt %s -p inf-allocate-sram | filecheck %s

// Compact reuse can fragment the memory a large DMA-loaded tile needs, and then
// the core is placed again with every tile in the memory free the longest.
// With compact reuse %c (not loaded, first use at top-level op 46) takes the memory freed most
// recently at least 32 positions before: %b's, dead since op 7, at its top
// [49152, 65536). The weight %w (64 KiB a partition, loaded at op 47 while %c is
// live) then finds runs of 49152 and 32768 bytes only. Placed again without
// compact reuse, %c goes to memory never used (below %f) and %w to the 64 KiB above
// it; without that second placement this module fails to allocate.
builtin.module {
  inf.core 0 {
    %wd = inf.dram "file" "w" : !inf.dram<128x16384xf32>
    %a = inf.alloc : !inf.sbuf<128x8192xf32>
    %b = inf.alloc : !inf.sbuf<128x8192xf32>
    %f = inf.alloc : !inf.sbuf<128x8xf32>
    %c = inf.alloc : !inf.sbuf<128x4096xf32>
    %w = inf.alloc : !inf.sbuf<128x16384xf32>
    inf.memset %a <p = 0, n = 128, off = 0, dims = [[8192, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8192xf32>
    inf.memset %b <p = 0, n = 128, off = 0, dims = [[8192, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8192xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %c <p = 0, n = 128, off = 0, dims = [[4096, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x4096xf32>
    inf.dma %w <p = 0, n = 128, off = 0, dims = [[16384, 1]]>, %wd <p = 0, n = 128, off = 0, dims = [[16384, 1]]> : !inf.sbuf<128x16384xf32>, !inf.dram<128x16384xf32>
    inf.memset %c <p = 0, n = 128, off = 0, dims = [[4096, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x4096xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %a = inf.alloc {partition = 0 : i64, offset = 65536 : i64} : !inf.sbuf<128x8192xf32>
// CHECK-NEXT:    %b = inf.alloc {partition = 0 : i64, offset = 32768 : i64} : !inf.sbuf<128x8192xf32>
// CHECK-NEXT:    %f = inf.alloc {partition = 0 : i64, offset = 32736 : i64} : !inf.sbuf<128x8xf32>
// CHECK-NEXT:    %c = inf.alloc {partition = 0 : i64, offset = 16352 : i64} : !inf.sbuf<128x4096xf32>
// CHECK-NEXT:    %w = inf.alloc {partition = 0 : i64, offset = 32768 : i64} : !inf.sbuf<128x16384xf32>
