// RUN: not kaena-opt %s -p inf-allocate-sram 2>&1 | filecheck %s

// Two tiles of 60000 bytes per partition live at once cannot share the 96 KiB
// of a partition: a one-line AllocationError naming the tile, no traceback.
builtin.module {
  inf.core 0 {
    %big0 = inf.alloc : !inf.sbuf<128x15000xf32>
    %big1 = inf.alloc : !inf.sbuf<128x15000xf32>
    inf.memset %big0 <p = 0, n = 128, off = 0, dims = [[15000, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x15000xf32>
    inf.memset %big1 <p = 0, n = 128, off = 0, dims = [[15000, 1]]> {value = 0.0 : f32} : !inf.sbuf<128x15000xf32>
    inf.tensor_tensor "add" %big0 <p = 0, n = 128, off = 0, dims = [[15000, 1]]>, %big0 <p = 0, n = 128, off = 0, dims = [[15000, 1]]>, %big1 <p = 0, n = 128, off = 0, dims = [[15000, 1]]> : !inf.sbuf<128x15000xf32>, !inf.sbuf<128x15000xf32>, !inf.sbuf<128x15000xf32>
  }
}

// CHECK: kaena-opt: error: core 0: SBUF tile %big1 (!inf.sbuf<128x15000xf32>) does not fit: it needs 128 partitions x 60000 bytes = 7680000 bytes while live over top-level ops 3..4, but only 4902912 of 12582912 SBUF bytes are free (1 live tiles; largest free run 38304 bytes per partition); use smaller tiles (e.g. split the layer) or compile for more NeuronCores
// CHECK-NOT: Traceback
