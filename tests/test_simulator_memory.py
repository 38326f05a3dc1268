"""The simulator's memory is bounded by what the NEFF declares, before it allocates: a
small hand-made NEFF with one large output runs in a few times the output's bytes, or
is refused in one line naming the variable; never a MemoryError or a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kaena.errors import SimulationError
from kaena.isa import Engine, Opcode
from kaena.neff import Neff
from kaena.simulator import simulate
from kaena.simulator.budget import simulation_bytes
from kaena.simulator.builder import Program, dram, sbuf
from kaena.target import INF1

LIMIT = 4 << 30  # the address-space limit of the report
CHUNK = 1 << 21  # fp32 elements per DMA: 8 MiB read (stride 0) from one SBUF partition


def one_large_output(elements: int) -> Neff:
    """POOL fills 4 bytes of SBUF; the DMA queue broadcasts them over a large output."""
    p = Program()
    p.var("x", "input", (1,))
    y = p.var("y", "output", (elements,))
    p.add(Engine.POOL, Opcode.MEMSET, imm=1.5, out=sbuf(0, 1, (1, 1)))
    p.signal(Engine.POOL, 0)
    p.wait(Engine.DMA, 0)
    for k in range(elements // CHUNK):
        p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, 1, (CHUNK, 0)), out=dram(y, 1, 0, (CHUNK, 1), offset=k * CHUNK * 4))
    return p.neff("large-output")


def _limited_run(path, tmp_path) -> subprocess.CompletedProcess:
    np.savez(tmp_path / "in.npz", x=np.zeros(1, np.float32))
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))\n"
        "from kaena.tools.kaena_run_main import main\n"
        f"sys.argv = ['kaena-run', {str(path)!r}, '--inputs', {str(tmp_path / 'in.npz')!r}, "
        f"'--output', {str(tmp_path / 'out.npz')!r}, '-q']\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


def _clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
    assert "internal error" not in proc.stderr, proc.stderr
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("kaena-run: error: "), proc.stderr


@pytest.mark.parametrize("mib", [256, 1900])
def test_one_large_output_under_a_4_gib_limit(tmp_path, mib):
    """256 MiB (the issue's case: 3.85 GB before) runs; 1.9 GiB, which the reader accepts
    (under a core's 2 GiB), needs more than 4 GiB to simulate: one line, nothing written."""
    neff = one_large_output(mib * (1 << 20) // 4)
    path = tmp_path / "large.neff"
    neff.save(str(path))
    assert path.stat().st_size < 64 * 1024
    verify = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_neff_main", "verify", str(path)],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    proc = _limited_run(path, tmp_path)
    _clean(proc)
    if mib == 256:
        assert proc.returncode == 0, proc.stderr
        with np.load(tmp_path / "out.npz") as out:
            assert out["y"].shape == (mib * (1 << 20) // 4,) and (out["y"] == np.float32(1.5)).all()
    else:
        assert proc.returncode == 1 and "DRAM variable 'y'" in proc.stderr and "GiB" in proc.stderr
        assert not (tmp_path / "out.npz").exists()


def test_the_estimate_counts_the_shadow_only_where_it_is_kept():
    neff = one_large_output(4 * CHUNK)
    nbytes = 4 * CHUNK * 4
    est = {what.split(" (")[0]: n for n, what in simulation_bytes(neff, INF1, with_data=True, shadowed=True)}
    # data, the copies handed back, and one int32 writer code per 2 bytes: nobody reads y
    assert est["core 0 DRAM variable 'y'"] == 3 * nbytes + 2 * nbytes
    est = {what.split(" (")[0]: n for n, what in simulation_bytes(neff, INF1, with_data=True, shadowed=False)}
    assert est["core 0 DRAM variable 'y'"] == 3 * nbytes


def test_peak_memory_of_a_large_output_is_a_few_times_its_bytes():
    neff = one_large_output(16 * CHUNK)  # 128 MiB
    nbytes = 16 * CHUNK * 4
    code = (
        "import resource, numpy as np, sys\n"
        "sys.path.insert(0, %r)\n"
        "from test_simulator_memory import one_large_output\n"
        "from kaena.simulator import simulate\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "r = simulate(one_large_output(%d), {'x': np.zeros(1, np.float32)})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    ) % (str(__import__("pathlib").Path(__file__).parent), 16 * CHUNK)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    grown = int(proc.stdout.split()[-1]) * 1024
    assert grown < 5 * nbytes, grown / nbytes  # was 13-15x (a reader plane per engine, growth copies)
    del neff


def test_variables_beyond_the_device_dram_are_refused_before_allocating():
    p = Program()
    y = p.var("y", "output", (INF1.dram_bytes_per_chip // INF1.cores_per_chip // 4 + 1024,))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, 1, (1, 1)), out=dram(y, 1, 0, (1, 1)))
    neff = p.neff("too-big")
    with pytest.raises(SimulationError, match=r"'y'.*more than the \d+ bytes of device DRAM a inf1 core has"):
        simulate(neff, {})
