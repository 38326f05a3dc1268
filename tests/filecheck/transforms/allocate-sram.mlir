// RUN: kaena-opt %s -p inf-allocate-sram --split-input-file | filecheck %s

// Placement in first-use order, in the memory free the longest (never used
// first, from the top of the partition): %a and %b overlap in time; %c starts
// after %a's last use but does not take its place (its writer would wait for
// %a's readers), it goes to memory never used.
builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x16xf32>
    %b = inf.alloc : !inf.sbuf<128x8xbf16>
    %c = inf.alloc : !inf.sbuf<64x16xf32>
    inf.memset %a <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
    inf.memset %b <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xbf16>
    inf.tensor_scalar "add" %a <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>, !inf.sbuf<128x16xf32>
    inf.memset %c <p = 0, n = 64, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<64x16xf32>
    inf.tensor_scalar "add" %b <p = 0, n = 128, off = 0, dims = [[8, 1]]>, %b <p = 0, n = 128, off = 0, dims = [[8, 1]]> : !inf.sbuf<128x8xbf16>, !inf.sbuf<128x8xbf16>
  }
}

// CHECK-LABEL: inf.core 0 attributes {kaena.sbuf_peak_bytes = 10240 : i64, kaena.psum_peak_bytes = 0 : i64}
// CHECK-NEXT:    %a = inf.alloc {partition = 0 : i64, offset = 98240 : i64} : !inf.sbuf<128x16xf32>
// CHECK-NEXT:    %b = inf.alloc {partition = 0 : i64, offset = 98208 : i64} : !inf.sbuf<128x8xbf16>
// CHECK-NEXT:    %c = inf.alloc {partition = 0 : i64, offset = 98144 : i64} : !inf.sbuf<64x16xf32>

// -----

// A tile used inside a loop is live over the whole loop; small tiles go side
// by side in partition groups of 32 before stacking in bytes (%c takes the
// group never used rather than %a's).
builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<32x8xf32>
    %b = inf.alloc : !inf.sbuf<32x8xf32>
    %c = inf.alloc : !inf.sbuf<32x8xf32>
    inf.loop 4 {
      inf.memset %a <p = 0, n = 32, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<32x8xf32>
      inf.memset %b <p = 0, n = 32, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<32x8xf32>
    }
    inf.memset %c <p = 0, n = 32, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<32x8xf32>
  }
}

// CHECK-LABEL: inf.core 0 attributes {kaena.sbuf_peak_bytes = 2048 : i64, kaena.psum_peak_bytes = 0 : i64}
// CHECK-NEXT:    %a = inf.alloc {partition = 0 : i64, offset = 98272 : i64}
// CHECK-NEXT:    %b = inf.alloc {partition = 32 : i64, offset = 98272 : i64}
// CHECK-NEXT:    %c = inf.alloc {partition = 64 : i64, offset = 98272 : i64}

// -----

// PSUM: a tile never straddles a bank (1 KiB per partition); tiles written by
// inf.matmul start at partition 0 or 64. Fixed placements are kept.
builtin.module {
  inf.core 0 {
    %s = inf.alloc : !inf.sbuf<128x128xbf16>
    %fixed = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.psum<64x200xf32>
    %p1 = inf.alloc : !inf.psum<64x128xf32>
    %p2 = inf.alloc : !inf.psum<32x100xf32>
    inf.memset %s <p = 0, n = 128, off = 0, dims = [[128, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x128xbf16>
    inf.matmul %fixed <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %s <p = 0, n = 128, off = 0, dims = [[128, 1]]> : !inf.psum<64x200xf32>, !inf.sbuf<128x128xbf16>
    inf.matmul %p1 <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %s <p = 0, n = 128, off = 0, dims = [[128, 1]]> : !inf.psum<64x128xf32>, !inf.sbuf<128x128xbf16>
    inf.activation "relu" %s <p = 0, n = 32, off = 0, dims = [[100, 1]]>, %p2 <p = 0, n = 32, off = 0, dims = [[100, 1]]> : !inf.sbuf<128x128xbf16>, !inf.psum<32x100xf32>
    inf.activation "relu" %s <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %fixed <p = 0, n = 64, off = 0, dims = [[128, 1]]> : !inf.sbuf<128x128xbf16>, !inf.psum<64x200xf32>
    inf.activation "relu" %s <p = 0, n = 64, off = 0, dims = [[128, 1]]>, %p1 <p = 0, n = 64, off = 0, dims = [[128, 1]]> : !inf.sbuf<128x128xbf16>, !inf.psum<64x128xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %fixed = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.psum<64x200xf32>
// CHECK-NEXT:    %p1 = inf.alloc {partition = 0 : i64, offset = 3584 : i64} : !inf.psum<64x128xf32>
// CHECK-NEXT:    %p2 = inf.alloc {partition = 64 : i64, offset = 3680 : i64} : !inf.psum<32x100xf32>

// -----

// Tiles marked kaena.resident (values kept in SBUF across ops) pack from the
// bottom by first fit, apart from the short-lived tiles cycling at the top;
// a resident tile reuses a dead resident's place at once.
builtin.module {
  inf.core 0 {
    %r1 = inf.alloc {kaena.resident} : !inf.sbuf<128x1024xf32>
    %w = inf.alloc : !inf.sbuf<128x512xbf16>
    %r2 = inf.alloc {kaena.resident} : !inf.sbuf<128x1024xf32>
    inf.memset %r1 <p = 0, n = 128, off = 0, dims = [[1024, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x1024xf32>
    inf.memset %w <p = 0, n = 128, off = 0, dims = [[512, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x512xbf16>
    inf.memset %r2 <p = 0, n = 128, off = 0, dims = [[1024, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x1024xf32>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK-NEXT:    %r1 = inf.alloc {kaena.resident, partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x1024xf32>
// CHECK-NEXT:    %w = inf.alloc {partition = 0 : i64, offset = 97280 : i64} : !inf.sbuf<128x512xbf16>
// CHECK-NEXT:    %r2 = inf.alloc {kaena.resident, partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x1024xf32>

// -----

// Compact reuse: a tile not loaded by DMA (%c) takes the memory freed most
// recently at least 32 top-level positions before its first use (op 46): %a's,
// dead since op 6, not %b's, dead since op 15 (too recent), leaving the memory never used to
// the tile the in-order DMA queue loads ahead (%w, a weight: free the longest,
// so its load waits for no earlier occupant's readers).
builtin.module {
  inf.core 0 {
    %wd = inf.dram "file" "w" : !inf.dram<128x16xbf16>
    %a = inf.alloc : !inf.sbuf<128x16xf32>
    %b = inf.alloc : !inf.sbuf<128x16xf32>
    %f = inf.alloc : !inf.sbuf<128x8xf32>
    %c = inf.alloc : !inf.sbuf<128x16xf32>
    %w = inf.alloc : !inf.sbuf<128x16xbf16>
    inf.memset %a <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %b <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
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
    inf.memset %c <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
    inf.dma %w <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %wd <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xbf16>, !inf.dram<128x16xbf16>
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %a = inf.alloc {partition = 0 : i64, offset = 98240 : i64} : !inf.sbuf<128x16xf32>
// CHECK-NEXT:    %b = inf.alloc {partition = 0 : i64, offset = 98144 : i64} : !inf.sbuf<128x16xf32>
// CHECK-NEXT:    %f = inf.alloc {partition = 0 : i64, offset = 98208 : i64} : !inf.sbuf<128x8xf32>
// CHECK-NEXT:    %c = inf.alloc {partition = 0 : i64, offset = 98240 : i64} : !inf.sbuf<128x16xf32>
// CHECK-NEXT:    %w = inf.alloc {partition = 0 : i64, offset = 98112 : i64} : !inf.sbuf<128x16xbf16>

// -----

// In a pipeline stage (kaena.pipeline on the module) a tile holding one copy of a
// weight (one DMA from a "file" variable, outside any loop: %a, %w) is pinned: live
// for the whole program and placed at the bottom like a resident tile, within half a
// partition, so nothing reuses its memory and the encoder can move its load to the
// load-time program (kaena.neff.resident). %c goes where it went without the pin
// (compact reuse never takes a DMA-loaded tile's memory in a pipeline stage).
builtin.module attributes {kaena.pipeline = {cores = 2 : i64}} {
  inf.core 0 {
    %wd = inf.dram "file" "w" : !inf.dram<128x16xbf16>
    %ad = inf.dram "file" "a" : !inf.dram<128x16xf32>
    %a = inf.alloc : !inf.sbuf<128x16xf32>
    %b = inf.alloc : !inf.sbuf<128x16xf32>
    %f = inf.alloc : !inf.sbuf<128x8xf32>
    %c = inf.alloc : !inf.sbuf<128x16xf32>
    %w = inf.alloc : !inf.sbuf<128x16xbf16>
    inf.dma %a <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %ad <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>, !inf.dram<128x16xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %f <p = 0, n = 128, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x8xf32>
    inf.memset %b <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
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
    inf.memset %c <p = 0, n = 128, off = 0, dims = [[16, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x16xf32>
    inf.dma %w <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %wd <p = 0, n = 128, off = 0, dims = [[16, 1]]> : !inf.sbuf<128x16xbf16>, !inf.dram<128x16xbf16>
  }
}


// CHECK-LABEL: inf.core 0
// CHECK:         %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<128x16xf32>
// CHECK:         %c = inf.alloc {partition = 0 : i64, offset = 98144 : i64} : !inf.sbuf<128x16xf32>
// CHECK-NEXT:    %w = inf.alloc {partition = 0 : i64, offset = 64 : i64} : !inf.sbuf<128x16xbf16>

// -----

// A weight tile loaded block by block in a loop holds several copies over the
// program: it is not pinned and takes the memory free the longest, from the top.
builtin.module attributes {kaena.pipeline = {cores = 2 : i64}} {
  inf.core 0 {
    %wd = inf.dram "file" "w" : !inf.dram<128x32xf32>
    %w = inf.alloc : !inf.sbuf<128x16xf32>
    inf.loop 2 {
      inf.dma %w <p = 0, n = 128, off = 0, dims = [[16, 1]]>, %wd <p = 0, n = 128, off = 16*d0, dims = [[16, 1]]> : !inf.sbuf<128x16xf32>, !inf.dram<128x32xf32>
    }
  }
}

// CHECK-LABEL: inf.core 0
// CHECK:         %w = inf.alloc {partition = 0 : i64, offset = 98240 : i64} : !inf.sbuf<128x16xf32>
