// RUN: kaena-opt %s -p inf-allocate-sram --split-input-file | filecheck %s

// In a pipeline stage the weights are pinned largest first within a partition (98304 bytes;
// ktensor-plan-matmul-streams already kept the stage's working set free of the ones it loads
// in one DMA): %l1 (32768 bytes a partition) at the bottom, then %l2 (16384), then %s (4096),
// loaded first; the short-lived tiles are placed from the top down.
builtin.module attributes {kaena.pipeline = {cores = 2 : i64}} {
  inf.core 0 {
    %sd = inf.dram "file" "s" : !inf.dram<128x1024xf32>
    %l1d = inf.dram "file" "l1" : !inf.dram<128x8192xf32>
    %l2d = inf.dram "file" "l2" : !inf.dram<128x4096xf32>
    %s = inf.alloc : !inf.sbuf<128x1024xf32>
    %l1 = inf.alloc : !inf.sbuf<128x8192xf32>
    %l2 = inf.alloc : !inf.sbuf<128x4096xf32>
    inf.dma %s <p = 0, n = 128, off = 0, dims = [[1024, 1]]>, %sd <p = 0, n = 128, off = 0, dims = [[1024, 1]]> : !inf.sbuf<128x1024xf32>, !inf.dram<128x1024xf32>
    inf.dma %l1 <p = 0, n = 128, off = 0, dims = [[8192, 1]]>, %l1d <p = 0, n = 128, off = 0, dims = [[8192, 1]]> : !inf.sbuf<128x8192xf32>, !inf.dram<128x8192xf32>
    inf.dma %l2 <p = 0, n = 128, off = 0, dims = [[4096, 1]]>, %l2d <p = 0, n = 128, off = 0, dims = [[4096, 1]]> : !inf.sbuf<128x4096xf32>, !inf.dram<128x4096xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %s = inf.alloc {partition = 0 : i64, offset = 49152 : i64} : !inf.sbuf<128x1024xf32>
// CHECK-NEXT:    %l1 = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x8192xf32>
// CHECK-NEXT:    %l2 = inf.alloc {partition = 0 : i64, offset = 32768 : i64} : !inf.sbuf<128x4096xf32>

// -----

// Where the pinned weights leave the rest no room, the longest prefix of them (largest first)
// that does stays pinned: %t (49152 bytes a partition) and %s, live together, do not fit
// beside %l1 and %l2 (all 49152 bytes pinned), but do beside %l1 alone; %l2 streams (placed
// from the top, short-lived).
builtin.module attributes {kaena.pipeline = {cores = 2 : i64}} {
  inf.core 0 {
    %sd = inf.dram "file" "s" : !inf.dram<128x1024xf32>
    %l1d = inf.dram "file" "l1" : !inf.dram<128x8192xf32>
    %l2d = inf.dram "file" "l2" : !inf.dram<128x4096xf32>
    %s = inf.alloc : !inf.sbuf<128x1024xf32>
    %t = inf.alloc : !inf.sbuf<128x12288xf32>
    %l1 = inf.alloc : !inf.sbuf<128x8192xf32>
    %l2 = inf.alloc : !inf.sbuf<128x4096xf32>
    inf.dma %s <p = 0, n = 128, off = 0, dims = [[1024, 1]]>, %sd <p = 0, n = 128, off = 0, dims = [[1024, 1]]> : !inf.sbuf<128x1024xf32>, !inf.dram<128x1024xf32>
    inf.memset %t <p = 0, n = 128, off = 0, dims = [[12288, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x12288xf32>
    inf.tensor_tensor "add" %t <p = 0, n = 128, off = 0, dims = [[1024, 1]]>, %t <p = 0, n = 128, off = 0, dims = [[1024, 1]]>, %s <p = 0, n = 128, off = 0, dims = [[1024, 1]]> : !inf.sbuf<128x12288xf32>, !inf.sbuf<128x12288xf32>, !inf.sbuf<128x1024xf32>
    inf.dma %l1 <p = 0, n = 128, off = 0, dims = [[8192, 1]]>, %l1d <p = 0, n = 128, off = 0, dims = [[8192, 1]]> : !inf.sbuf<128x8192xf32>, !inf.dram<128x8192xf32>
    inf.dma %l2 <p = 0, n = 128, off = 0, dims = [[4096, 1]]>, %l2d <p = 0, n = 128, off = 0, dims = [[4096, 1]]> : !inf.sbuf<128x4096xf32>, !inf.dram<128x4096xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %s = inf.alloc {partition = 0 : i64, offset = 94208 : i64} : !inf.sbuf<128x1024xf32>
// CHECK-NEXT:    %t = inf.alloc {partition = 0 : i64, offset = 45056 : i64} : !inf.sbuf<128x12288xf32>
// CHECK-NEXT:    %l1 = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x8192xf32>
// CHECK-NEXT:    %l2 = inf.alloc {partition = 0 : i64, offset = 81920 : i64} : !inf.sbuf<128x4096xf32>
