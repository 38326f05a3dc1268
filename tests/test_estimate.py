"""``kaena-estimate``: copies per instance, latency with host transfers, throughput."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest

import kaena
from kaena.testing import modelzoo
from kaena.target.costmodel import COSTS
from kaena.reports.estimate import estimate, estimate_json, format_estimate, model_costs
from kaena.isa import Engine, Opcode
from kaena.neff import Neff, TensorSpec
from kaena.simulator import simulate
from kaena.simulator.builder import Program, dram, row
from kaena.target import INF1

ROWS, COLS = 64, 256
NBYTES = ROWS * COLS * 4


def _chain(cores: int) -> Neff:
    """``cores`` subgraphs, each copying tensor t{k} to t{k+1} with one DRAM-to-DRAM DMA."""
    subgraphs = []
    for k in range(cores):
        p = Program()
        a = p.var(f"t{k}", "input", (ROWS, COLS))
        b = p.var(f"t{k + 1}", "output", (ROWS, COLS))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(a, ROWS, COLS, row(COLS)), out=dram(b, ROWS, COLS, row(COLS)))
        subgraphs.append(p.subgraph(k))
    return Neff(f"chain{cores}", [TensorSpec("t0", (ROWS, COLS))], [TensorSpec(f"t{cores}", (ROWS, COLS))],
                subgraphs, "kaena-test")


def test_one_core_model_one_copy_per_core():
    neff = _chain(1)
    x = np.arange(ROWS * COLS, dtype=np.float32).reshape(ROWS, COLS)
    np.testing.assert_array_equal(simulate(neff, {"t0": x}).outputs["t1"], x)
    dma = INF1.dma_cycles(NBYTES)
    host = COSTS.host_transfer(NBYTES)
    assert host == round((INF1.host_transfer_latency_s + NBYTES / INF1.host_bytes_per_s) * INF1.clock_hz)
    rows = {r.instance: r for r in estimate(neff, host_link="instance")}
    assert [r.instance for r in estimate(neff, host_link="instance")] == ["inf1.xlarge", "inf1.2xlarge", "inf1.6xlarge", "inf1.24xlarge"]
    for name, cores in (("inf1.xlarge", 4), ("inf1.2xlarge", 4), ("inf1.6xlarge", 16), ("inf1.24xlarge", 64)):
        r = rows[name]
        assert r.copies == cores
        assert r.latency_us == pytest.approx((host + dma + host) / 1000)
        # one host link per instance: every copy's two transfers go through it in turn
        period = max(dma, cores * 2 * host)
        assert r.throughput_per_s == pytest.approx(cores * 1e9 / period)
        assert r.bound == ("host" if cores * 2 * host > dma else "device")
    per_chip = {r.instance: r for r in estimate(neff, host_link="chip")}
    assert per_chip["inf1.24xlarge"].throughput_per_s == pytest.approx(64 * 1e9 / max(dma, 4 * 2 * host))


def test_pipeline_copies_and_chip_crossings():
    neff = _chain(5)
    mc = model_costs(neff)
    dma = INF1.dma_cycles(NBYTES)
    assert mc.device_cycles == 5 * dma and mc.stage_cycles == dma
    # subgraph 4 sits on the second chip and reads subgraph 3's output over NeuronLink
    assert mc.link_cycles == COSTS.neuronlink(NBYTES)
    rows = {r.instance: r for r in estimate(neff, host_link="instance")}
    assert rows["inf1.xlarge"].copies == 0 and "needs 5 cores" in rows["inf1.xlarge"].note
    assert math.isnan(rows["inf1.xlarge"].latency_us) and rows["inf1.xlarge"].throughput_per_s == 0
    r = rows["inf1.6xlarge"]
    assert r.copies == 3
    host = 2 * COSTS.host_transfer(NBYTES)
    assert r.latency_us == pytest.approx((host + 5 * dma + mc.link_cycles) / 1000)
    assert r.throughput_per_s == pytest.approx(3 * 1e9 / max(dma + mc.link_cycles, 3 * host))
    assert rows["inf1.24xlarge"].copies == 12
    doc = estimate_json(neff)
    json.dumps(doc)
    assert doc["instances"][0]["latency_us"] is None
    text = format_estimate(doc)
    assert "NeuronLink" in text and "needs 5 cores" in text


def test_four_core_pipeline_stays_on_one_chip():
    assert model_costs(_chain(4)).link_cycles == 0


def test_cli_table_and_json(tmp_path):
    path = tmp_path / "lenet.neff"
    kaena.compile(modelzoo.lenet(batch=1)).save(str(path))
    proc = subprocess.run(["kaena-estimate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for inst in ("inf1.xlarge", "inf1.2xlarge", "inf1.6xlarge", "inf1.24xlarge"):
        assert inst in proc.stdout
    proc = subprocess.run(["kaena-estimate", str(path), "--json"], capture_output=True, text=True)
    doc = json.loads(proc.stdout)
    neff = Neff.load(str(path))
    device = simulate(neff, {}, timing_only=True).cycles
    assert doc["device_us"] == pytest.approx(device / 1000)
    assert doc["latency_us"] == pytest.approx(doc["host_in_us"] + doc["device_us"] + doc["host_out_us"])
    assert [r["copies"] for r in doc["instances"]] == [4, 4, 16, 64]
    assert all(r["throughput_per_s"] > 0 for r in doc["instances"])


def test_cli_clean_error_on_a_bad_file(tmp_path):
    bad = tmp_path / "x.neff"
    bad.write_bytes(b"nope")
    proc = subprocess.run(["kaena-estimate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("kaena-estimate: error: ") and "x.neff" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
