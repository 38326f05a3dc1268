// RUN: kaena-opt %s --verify-diagnostics --parsing-diagnostics --split-input-file | filecheck %s

// One case per verifier check of dialects/inferentia.py (the transpose
// width check is unreachable: a >128-partition result AP cannot fit a tile).
// Unknown enum names (activation function, ALU op, engine) are parse errors
// (--parsing-diagnostics); target-dependent limits: tests/test_inf_target.py.

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 0, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: #inf.ap needs at least one partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 4, off = 0, dims = [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: #inf.ap has 1 to 4 free dims

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 4, off = 0, dims = [[0, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: #inf.ap dim counts must be >= 1

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xi64>
    
  }
}

// CHECK: inf.sbuf element type must be f32, bf16, f16 or i32, got i64

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<0x4xf32>
    
  }
}

// CHECK: inf.sbuf dims must be >= 1

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4x4xf32>
    
  }
}

// CHECK: inf.sbuf is [partitions x elements], got (4, 4, 4)

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<256x4xf32>
    
  }
}

// CHECK: inf.sbuf has 256 partitions, the core has 128

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x30000xf32>
    
  }
}

// CHECK: inf.sbuf tile needs 120000 bytes per partition, SBUF has 98304

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.psum<4x4xbf16>
    
  }
}

// CHECK: inf.psum tiles hold f32

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.psum<4x2048xf32>
    
  }
}

// CHECK: inf.psum tile needs 8192 bytes per partition, PSUM has 4096

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.loop 0 {
      inf.memset %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
    }
  }
}

// CHECK: 'inf.loop' needs at least one trip

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    %x = inf.dram "weird" "x" : !inf.dram<4xf32>
  }
}

// CHECK: 'inf.dram' kind must be one of input, output, file, tmp, got 'weird'

// -----

builtin.module {
  %x = inf.dram "input" "x" : !inf.dram<4xf32>
}

// CHECK: 'inf.dram' expects parent op 'inf.core'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 0 : i64} : !inf.sbuf<4x4xf32>
    
  }
}

// CHECK: 'inf.alloc' sets partition and offset together

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 96 : i64, offset = 0 : i64} : !inf.sbuf<64x4xf32>
    
  }
}

// CHECK: 'inf.alloc' partitions [96, 160) exceed the 128 partitions

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 16 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    
  }
}

// CHECK: 'inf.alloc' partition start 16 is not a multiple of 32

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 0 : i64, offset = 98300 : i64} : !inf.sbuf<4x4xf32>
    
  }
}

// CHECK: 'inf.alloc' bytes [98300, 98316) exceed the 98304 bytes of a partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc {partition = 0 : i64, offset = 4090 : i64} : !inf.psum<4x4xf32>
    
  }
}

// CHECK: 'inf.alloc' bytes [4090, 4106) exceed the 4096 bytes of a partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 4, off = 1*d0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.memset' access pattern refers to d0 but is inside 0 loop(s)

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    %x = inf.dram "input" "x" : !inf.dram<16xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 1, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xf32>
  }
}

// CHECK: 'inf.dma' DRAM access patterns start at partition 0

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    %x = inf.dram "input" "x" : !inf.dram<16xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 5, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xf32>
  }
}

// CHECK: 'inf.dma' reads or writes elements [0, 19) of a DRAM tensor of 16

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.memset' on-chip access patterns have no pstride

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 8, off = 0, dims = [[2, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.memset' partitions [0, 8) exceed the tile's 4

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.memset %a <p = 0, n = 4, off = 0, dims = [[8, 1]]> {value = 0.0 : f32} : !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.memset' elements [0, 8) exceed the tile's 4 per partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    %x = inf.dram "input" "x" : !inf.dram<16xbf16>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 1, off = 0, dims = [[16, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xbf16>
  }
}

// CHECK: 'inf.dma' copies between buffers of the same dtype

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    %x = inf.dram "input" "x" : !inf.dram<16xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 1, off = 0, dims = [[8, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<16xf32>
  }
}

// CHECK: 'inf.dma' moves 8 elements into 16

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x128xbf16>
    inf.load_stationary %a <p = 0, n = 128, off = 0, dims = [[65, 1]]> : !inf.sbuf<128x128xbf16>
  }
}

// CHECK: 'inf.load_stationary' operand is [128, 65], the PE array takes at most [128, 64]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x512xbf16>
    %p = inf.alloc : !inf.psum<64x512xf32>
    inf.matmul %p <p = 0, n = 64, off = 0, dims = [[257, 1]]>, %a <p = 0, n = 128, off = 0, dims = [[257, 1]]> : !inf.psum<64x512xf32>, !inf.sbuf<128x512xbf16>
  }
}

// CHECK: 'inf.matmul' moving operand is [128, 257], at most [128, 256]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x4xbf16>
    %p = inf.alloc : !inf.psum<128x4xf32>
    inf.matmul %p <p = 0, n = 128, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 128, off = 0, dims = [[4, 1]]> : !inf.psum<128x4xf32>, !inf.sbuf<128x4xbf16>
  }
}

// CHECK: 'inf.matmul' writes 128 PSUM partitions, at most 64

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x4xbf16>
    %p = inf.alloc : !inf.psum<64x4xf32>
    inf.matmul %p <p = 0, n = 64, off = 0, dims = [[2, 1]]>, %a <p = 0, n = 128, off = 0, dims = [[4, 1]]> : !inf.psum<64x4xf32>, !inf.sbuf<128x4xbf16>
  }
}

// CHECK: 'inf.matmul' result and moving operand have different N

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<128x4xbf16>
    %p = inf.alloc : !inf.psum<64x4xf32>
    inf.loop 2 {
      inf.matmul %p <p = 0, n = 64, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 128, off = 0, dims = [[4, 1]]> {accumulate = #inf.expr<1 - 1*d0>} : !inf.psum<64x4xf32>, !inf.sbuf<128x4xbf16>
    }
  }
}

// CHECK: 'inf.matmul' accumulate must be affine with non-negative terms

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.activation "foo" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: activation function must be one of identity, relu, gelu, tanh, sigmoid, exp, sqrt, reciprocal, square, rsqrt, neg, erf, gelu_tanh, log, got 'foo'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.activation "relu" %a <p = 0, n = 4, off = 0, dims = [[2, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.activation' maps [4, 4] to [4, 2]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.activation "relu" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> bias %a : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.activation' bias and bias_ap go together

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.activation "relu" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> bias %a {bias_ap = #inf.ap<p = 0, n = 4, off = 0, dims = [[2, 1]]>} : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.activation' bias is one element per partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_tensor "pow" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: ALU op must be one of add, sub, mul, max, min, div, bypass, equal, less, greater, got 'pow'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_tensor "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[2, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_tensor' out and lhs differ: [4, 4] vs [4, 2]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_tensor "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 2, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_tensor' out and rhs differ: [4, 4] vs [2, 4]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_scalar "pow" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: ALU op must be one of add, sub, mul, max, min, div, bypass, equal, less, greater, got 'pow'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_scalar "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[3, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_scalar' out and in differ: [4, 4] vs [4, 3]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_scalar "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> scalar %a : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_scalar' scalar and scalar_ap go together

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_scalar "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> scalar %a {scalar_ap = #inf.ap<p = 0, n = 2, off = 0, dims = [[1, 1]]>} : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_scalar' scalar is one element per partition

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.reduce "mul" %a <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> {axes = 1 : i64} : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.reduce' alu must be add, max or min

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.reduce "add" %a <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> {axes = 2 : i64} : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.reduce' axes must be in [1, 1]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.reduce "add" %a <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> {axes = 1 : i64} : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.reduce' result must be [4, 1], got [4, 4]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.transpose %a <p = 0, n = 4, off = 0, dims = [[3, 1]]>, %a <p = 0, n = 2, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.transpose' of [2, 4] must be [4, 2]

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_signal "gpsimd" 0
  }
}

// CHECK: engine must be one of pe, act, pool, dma, got 'gpsimd'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_signal "pe" 32
  }
}

// CHECK: 'inf.sem_signal' semaphore 32 out of range: a core has 32

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_wait "foo" 0, <1>
  }
}

// CHECK: engine must be one of pe, act, pool, dma, got 'foo'

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_wait "act" 40, <1>
  }
}

// CHECK: 'inf.sem_wait' semaphore 40 out of range: a core has 32

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_wait "act" 0, <1 + 1*d0>
  }
}

// CHECK: 'inf.sem_wait' value refers to d0 outside its loops

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.loop 3 {
      inf.sem_wait "act" 0, <1 - 1*d0>
    }
  }
}

// CHECK: 'inf.sem_wait' value is < 1 on every trip: it never blocks

// -----

builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.sem_wait "act" 0, <0>
  }
}

// CHECK: 'inf.sem_wait' value is < 1 on every trip: it never blocks

// -----

// An affine term beyond int64 (the NEFF's encoding) is a parse error, not an overflow in the encoder.
builtin.module {
  inf.core 0 {
    %a = inf.alloc : !inf.sbuf<4x4xf32>
    inf.loop 3 {
      inf.sem_wait "act" 0, <18446744073709551616 + 2*d0>
    }
  }
}

// CHECK: affine expression out of range: its constant and coefficients are 64-bit signed integers

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %f = inf.alloc : !inf.sbuf<4x4xf32>
    inf.activation "exp" %i <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %f <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.activation' cannot write i32: only a move of i32 values does

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %f = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_tensor "equal" %i <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %f <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %f <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_tensor' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %f = inf.alloc : !inf.sbuf<4x4xf32>
    inf.tensor_scalar "bypass" %i <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %f <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.tensor_scalar' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    inf.tensor_scalar "add" %i <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %i <p = 0, n = 4, off = 0, dims = [[4, 1]]> {imm = 1.0 : f32} : !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.tensor_scalar' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %r = inf.alloc : !inf.sbuf<4x1xi32>
    inf.reduce "add" %r <p = 0, n = 4, off = 0, dims = [[1, 1]]>, %i <p = 0, n = 4, off = 0, dims = [[4, 1]]> {axes = 1 : i64} : !inf.sbuf<4x1xi32>, !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.reduce' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    inf.memset %i <p = 0, n = 4, off = 0, dims = [[4, 1]]> {value = 1.0 : f32} : !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.memset' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %f = inf.alloc : !inf.sbuf<4x4xf32>
    inf.transpose %i <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %f <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.transpose' cannot write i32

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    inf.load_stationary %i <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.load_stationary': the tensor engine has no integer arithmetic (i32 operand)

// -----

builtin.module {
  inf.core 0 {
    %i = inf.alloc : !inf.sbuf<4x4xi32>
    %p = inf.alloc : !inf.psum<4x4xf32>
    inf.matmul %p <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %i <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.psum<4x4xf32>, !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.matmul': the tensor engine has no integer arithmetic (i32 operand)

// -----

builtin.module {
  inf.core 0 {
    %p = inf.alloc : !inf.psum<4x4xi32>
  }
}

// CHECK: inf.psum tiles hold f32

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<4x4xi32>
    %f = inf.alloc : !inf.sbuf<4x4xf32>
    inf.dma %f <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %x <p = 0, n = 4, pstride = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<4x4xi32>
  }
}

// CHECK: 'inf.dma' copies between buffers of the same dtype

// -----

builtin.module {
  inf.core 0 {
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %m = inf.alloc : !inf.sbuf<4x4xi32>
    inf.select %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %m <p = 0, n = 4, off = 0, dims = [[2, 1]]>, %o <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.select' out and pred differ: [4, 4] vs [4, 2]

// -----

builtin.module {
  inf.core 0 {
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %m = inf.alloc : !inf.sbuf<4x4xi32>
    inf.select %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %m <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 2, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xi32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.select' out and on_true differ: [4, 4] vs [2, 4]

// -----

builtin.module {
  inf.core 0 {
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %m = inf.alloc : !inf.sbuf<4x4xi32>
    inf.select %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %m <p = 0, n = 4, off = 0, dims = [[4, 1]]> : !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xf32>, !inf.sbuf<4x4xi32>
  }
}

// CHECK: 'inf.select' on_true is int32 but out is fp32: a select moves values, it does not convert

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xf32>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x1xf32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 10, pstride = 4, off = 0, dims = [[4, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xf32>, !inf.sbuf<4x1xf32>
  }
}

// CHECK: 'inf.dma_gather' index tile must be i32, got fp32

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xbf16>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x1xi32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 10, pstride = 4, off = 0, dims = [[4, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xbf16>, !inf.sbuf<4x1xi32>
  }
}

// CHECK: 'inf.dma_gather' copies between buffers of the same dtype

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xf32>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x2xi32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 10, pstride = 4, off = 0, dims = [[4, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[2, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xf32>, !inf.sbuf<4x2xi32>
  }
}

// CHECK: 'inf.dma_gather' index must be [4, 1] (one per destination partition), got [4, 2]

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xf32>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x1xi32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 10, pstride = 4, off = 0, dims = [[2, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xf32>, !inf.sbuf<4x1xi32>
  }
}

// CHECK: 'inf.dma_gather' takes 2 elements of each row into 4 per partition

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xf32>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x1xi32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 11, pstride = 4, off = 0, dims = [[4, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xf32>, !inf.sbuf<4x1xi32>
  }
}

// CHECK: 'inf.dma_gather' reads or writes elements [0, 44) of a DRAM tensor of 40

// -----

builtin.module {
  inf.core 0 {
    %t = inf.dram "input" "t" : !inf.dram<10x4xf32>
    %o = inf.alloc : !inf.sbuf<4x4xf32>
    %i = inf.alloc : !inf.sbuf<4x1xi32>
    inf.dma_gather %o <p = 0, n = 4, off = 0, dims = [[4, 1]]>, %t <p = 0, n = 10, off = 0, dims = [[4, 1]]> index %i <p = 0, n = 4, off = 0, dims = [[1, 1]]> : !inf.sbuf<4x4xf32>, !inf.dram<10x4xf32>, !inf.sbuf<4x1xi32>
  }
}

// CHECK: 'inf.dma_gather' table rows need a positive pstride

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" {kaena.valid_range = array<i64: 0, 10>} : !inf.dram<4x4xf32>
  }
}

// CHECK: 'inf.dram' kaena.valid_range is only for an i32 "input"

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "output" "x" {kaena.valid_range = array<i64: 0, 10>} : !inf.dram<4x4xi32>
  }
}

// CHECK: 'inf.dram' kaena.valid_range is only for an i32 "input"

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" {kaena.valid_range = array<i64: 10, 10>} : !inf.dram<4x4xi32>
  }
}

// CHECK: 'inf.dram' kaena.valid_range must be array<i64: lo, hi> with int32 lo < hi (values in [lo, hi))

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" {kaena.valid_range = array<i64: 0, 1, 2>} : !inf.dram<4x4xi32>
  }
}

// CHECK: 'inf.dram' kaena.valid_range must be array<i64: lo, hi>

// -----

// inf.dma_send writes an "output" variable another core reads.
builtin.module {
  inf.core 0 {
    %x = inf.dram "tmp" "t0" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 1 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' writes an 'output' DRAM variable (the receiving core reads it)

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "output" "y" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 1 sem 32 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' semaphore 32 out of range: a core has 32

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "output" "y" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 64 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' core 64 out of range: the largest instance has 64

// -----

builtin.module {
  inf.core 2 {
    %x = inf.dram "output" "y" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 2 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' sends to its own core 2: use inf.dma and inf.sem_signal

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "output" "y" : !inf.dram<16xbf16>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 1 sem 31 : !inf.dram<16xbf16>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' copies between buffers of the same dtype

// -----

builtin.module {
  inf.core 0 {
    %x = inf.dram "output" "y" : !inf.dram<16xf32>
    %a = inf.alloc {partition = 0 : i64, offset = 0 : i64} : !inf.sbuf<4x4xf32>
    inf.dma_send %x <p = 0, n = 1, off = 0, dims = [[8, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[4, 1]]> to core 1 sem 31 : !inf.dram<16xf32>, !inf.sbuf<4x4xf32>
  }
}

// CHECK: 'inf.dma_send' moves 16 elements into 8
