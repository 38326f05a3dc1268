"""inf-allocate-sram: liveness, reuse, PSUM rules, errors, determinism, speed."""

from __future__ import annotations


import pytest
from xdsl.context import Context

from kaena.dialects.inferentia import AllocOp, CoreOp
from kaena.errors import AllocationError
from kaena.passes.transforms.inf.inf_allocate_sram import AllocateSramPass
from kaena.target import INF1
from test_insert_semaphores import parse


def memset(name: str, t: str, parts: int, n: int) -> str:
    return f"inf.memset %{name} <p = 0, n = {parts}, off = 0, dims = [[{n}, 1]]> {{value = 0.0 : f32}} : {t}"


def program(allocs: list[tuple[str, str]], body: list[str]) -> str:
    lines = [f"%{n} = inf.alloc : {t}" for n, t in allocs] + body
    return "builtin.module {\n  inf.core 0 {\n" + "\n".join("    " + l for l in lines) + "\n  }\n}\n"


def allocate(text: str, **opts):
    module = parse(text)
    AllocateSramPass(**opts).apply(Context(), module)
    module.verify()
    return module


def placements(module) -> dict[str, tuple[int, int]]:
    return {op.result.name_hint: (op.partition.value.data, op.offset.value.data)
            for op in module.walk() if isinstance(op, AllocOp)}


def test_reuse_after_death_and_peak():
    t = "!inf.sbuf<128x4096xf32>"  # 16 KiB per partition: six fit in 96 KiB
    names = [f"a{i}" for i in range(12)]
    body = [memset(n, t, 128, 4096) for n in names]  # each tile live at one position only
    m = allocate(program([(n, t) for n in names], body))
    p = placements(m)
    # memory free the longest first: the tiles cycle through six places (a ring),
    # so no tile's writer waits for the readers of the tile just before it
    assert len(set(p.values())) == 6
    assert all(p[f"a{i}"] == p[f"a{i + 6}"] for i in range(6))
    core = next(op for op in m.walk() if isinstance(op, CoreOp))
    assert core.attributes["kaena.sbuf_peak_bytes"].value.data == 128 * 4096 * 4


def test_overlapping_lifetimes_do_not_overlap_in_memory():
    t = "!inf.sbuf<64x1000xbf16>"
    names = [f"a{i}" for i in range(10)]
    body = [memset(n, t, 64, 1000) for n in names] + [memset(n, t, 64, 1000) for n in names]
    p = placements(allocate(program([(n, t) for n in names], body)))
    cells = {(part, off) for part, off in p.values()}
    assert len(cells) == 10  # all live together: ten distinct places
    for part, off in p.values():
        assert part % INF1.partition_alignment == 0 and off % 32 == 0


def test_psum_bank_and_matmul_start():
    allocs = [("s", "!inf.sbuf<128x64xbf16>"), ("p0", "!inf.psum<64x200xf32>"),
              ("p1", "!inf.psum<64x200xf32>"), ("p2", "!inf.psum<64x200xf32>")]
    body = [memset("s", "!inf.sbuf<128x64xbf16>", 128, 64)]
    for p in ("p0", "p1", "p2"):
        body.append(f"inf.matmul %{p} <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %s <p = 0, n = 128, off = 0, "
                    f"dims = [[64, 1]]> : !inf.psum<64x200xf32>, !inf.sbuf<128x64xbf16>")
    for p in ("p0", "p1", "p2"):
        body.append(f'inf.activation "relu" %s <p = 0, n = 64, off = 0, dims = [[64, 1]]>, %{p} <p = 0, n = 64, '
                    f"off = 0, dims = [[64, 1]]> : !inf.sbuf<128x64xbf16>, !inf.psum<64x200xf32>")
    pl = placements(allocate(program(allocs, body)))
    bank = INF1.psum_bank_bytes
    for name in ("p0", "p1", "p2"):
        part, off = pl[name]
        assert part in INF1.psum_matmul_partition_starts
        assert off // bank == (off + 800 - 1) // bank
    assert len(set(pl[n] for n in ("p0", "p1", "p2"))) == 3


def test_does_not_fit_names_tile_and_sizes():
    t = "!inf.sbuf<128x15000xf32>"
    body = [memset("big0", t, 128, 15000), memset("big1", t, 128, 15000), memset("big0", t, 128, 15000)]
    with pytest.raises(AllocationError, match=r"SBUF tile %big1 .* 7680000 bytes .* free"):
        allocate(program([("big0", t), ("big1", t)], body))


def test_check_catches_bad_fixed_placements():
    text = program(
        [("a", "!inf.sbuf<32x8xf32>"), ("b", "!inf.sbuf<32x8xf32>")],
        [memset("a", "!inf.sbuf<32x8xf32>", 32, 8), memset("b", "!inf.sbuf<32x8xf32>", 32, 8),
         memset("a", "!inf.sbuf<32x8xf32>", 32, 8)],
    ).replace("%b = inf.alloc :", "%b = inf.alloc {partition = 0 : i64, offset = 16 : i64} :").replace(
        "%a = inf.alloc :", "%a = inf.alloc {partition = 0 : i64, offset = 0 : i64} :")
    with pytest.raises(AllocationError, match="overlap while both are live"):
        allocate(text)
    allocate(text, check=False)  # the check is what finds it


def test_deterministic_and_fast():
    t = "!inf.sbuf<32x256xf32>"
    names = [f"a{i}" for i in range(3000)]
    body = []
    for i, n in enumerate(names):  # sliding window: each tile lives over 8 positions
        body.append(memset(n, t, 32, 256))
        if i >= 8:
            body.append(memset(names[i - 8], t, 32, 256))
    text = program([(n, t) for n in names], body)
    module = parse(text)
    AllocateSramPass().apply(Context(), module)
    a = placements(module)
    assert a == placements(allocate(text))
    assert len(set(a.values())) < 200  # memory is reused
