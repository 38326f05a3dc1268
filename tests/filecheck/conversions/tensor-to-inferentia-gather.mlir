// RUN: kaena-opt %s -p convert-tensor-to-inferentia | filecheck %s
// An embedding lookup of 300 run-time ids: one loop of 128-id steps (ids into an
// int32 tile, one per partition; one dma_gather of the rows; one DMA out), the
// remainder peeled; the ids input records the table's rows as its valid range.

func.func @main(%ids: tensor<1x300xi32> {kaena.name = "input_ids", kaena.input_dtype = "int64"}) -> (tensor<1x300x64xf32> {kaena.name = "y"}) {
  %w = ktensor.weight "emb" : tensor<1000x64xf32>
  %y = ktensor.gather %w, %ids : (tensor<1000x64xf32>, tensor<1x300xi32>) -> tensor<1x300x64xf32>
  func.return %y : tensor<1x300x64xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT: inf.core 0 {
// CHECK-NEXT: %input_ids = inf.dram "input" "input_ids" {kaena.valid_range = array<i64: 0, 1000>} : !inf.dram<1x300xi32>
// CHECK-NEXT: %y = inf.dram "output" "y" : !inf.dram<1x300x64xf32>
// CHECK-NEXT: %emb = inf.dram "file" "emb" : !inf.dram<1000x64xf32>
// CHECK-NEXT: %ids_t = inf.alloc : !inf.sbuf<128x1xi32>
// CHECK-NEXT: %rows_t = inf.alloc : !inf.sbuf<128x64xf32>
// CHECK-NEXT: inf.loop 2 {
// CHECK-NEXT: inf.dma %ids_t <p = 0, n = 128, off = 0, dims = [[1, 1]]>, %input_ids <p = 0, n = 128, pstride = 1, off = 128*d0, dims = [[1, 1]]> : !inf.sbuf<128x1xi32>, !inf.dram<1x300xi32>
// CHECK-NEXT: inf.dma_gather %rows_t <p = 0, n = 128, off = 0, dims = [[64, 1]]>, %emb <p = 0, n = 1000, pstride = 64, off = 0, dims = [[64, 1]]> index %ids_t <p = 0, n = 128, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x64xf32>, !inf.dram<1000x64xf32>, !inf.sbuf<128x1xi32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 128, pstride = 64, off = 8192*d0, dims = [[64, 1]]>, %rows_t <p = 0, n = 128, off = 0, dims = [[64, 1]]> : !inf.dram<1x300x64xf32>, !inf.sbuf<128x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: inf.dma %ids_t <p = 0, n = 44, off = 0, dims = [[1, 1]]>, %input_ids <p = 0, n = 44, pstride = 1, off = 256, dims = [[1, 1]]> : !inf.sbuf<128x1xi32>, !inf.dram<1x300xi32>
// CHECK-NEXT: inf.dma_gather %rows_t <p = 0, n = 44, off = 0, dims = [[64, 1]]>, %emb <p = 0, n = 1000, pstride = 64, off = 0, dims = [[64, 1]]> index %ids_t <p = 0, n = 44, off = 0, dims = [[1, 1]]> : !inf.sbuf<128x64xf32>, !inf.dram<1000x64xf32>, !inf.sbuf<128x1xi32>
// CHECK-NEXT: inf.dma %y <p = 0, n = 44, pstride = 64, off = 16384, dims = [[64, 1]]>, %rows_t <p = 0, n = 44, off = 0, dims = [[64, 1]]> : !inf.dram<1x300x64xf32>, !inf.sbuf<128x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
