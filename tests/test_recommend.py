"""``kaena-estimate --latency-budget``: the configuration per instance size with the
most inferences per second within a latency budget (kaena.reports.recommend)."""

from __future__ import annotations

import json
import subprocess
import sys

import onnx
import pytest

import kaena
from kaena.reports.estimate import ModelCosts, instance_estimate
from kaena.reports.recommend import Candidate, choose, compile_candidates
from kaena.target import INF1
from kaena.testing import modelzoo


def _costs(cores: int, batch: int, latency: int, interval: int) -> ModelCosts:
    """Costs with no host transfers, so throughput is batch x copies / interval exactly."""
    return ModelCosts(cores=cores, device_cycles=latency, stage_cycles=interval, link_cycles=0,
                      host_in_cycles=0, host_out_cycles=0, dram_bytes=0, batch=batch,
                      pipeline_interval=interval if cores > 1 else None)


def test_the_fastest_within_the_budget_wins_and_the_flags_name_it():
    us = INF1.clock_hz // 1_000_000  # cycles per microsecond
    single = Candidate(1, 1, _costs(1, 1, 1000 * us, 1000 * us))      # 1 ms, 1000/s per core
    batched = Candidate(1, 8, _costs(1, 8, 4000 * us, 4000 * us))     # 4 ms, 2000/s per core
    pipeline = Candidate(4, 1, _costs(4, 1, 1200 * us, 300 * us))     # 1.2 ms, 3333/s per 4 cores
    xlarge = next(i for i in INF1.instances if i.neuron_cores == 4)
    by_name = {c.instance: c for c in choose([single, batched, pipeline], INF1, 5000)}
    best = by_name[xlarge.name]
    # 4 cores: 4 single copies 4000/s, 4 batched copies 8000/s, one pipeline 3333/s
    assert best.candidate is batched and best.estimate.copies == 4
    assert best.estimate.throughput_per_s == pytest.approx(8000)
    assert best.flags("m.onnx") == "kaena-compile m.onnx --neuroncore-pipeline-cores 1 --batch-size 8; kaena-run --copies 4"
    tight = {c.instance: c for c in choose([single, batched, pipeline], INF1, 1100)}[xlarge.name]
    assert tight.candidate is single  # the batch's 4 ms and the pipeline's 1.2 ms are over 1.1 ms
    none = {c.instance: c for c in choose([single, batched], INF1, 500)}[xlarge.name]
    assert none.candidate is None and "lowest latency is 1.000 ms (1 core(s), batch 1)" in none.note
    # the row is what kaena-estimate prints for that NEFF on that instance
    assert best.estimate == instance_estimate(batched.costs, xlarge, INF1)


def test_candidates_compile_and_a_refused_batch_is_noted():
    cands = compile_candidates(modelzoo.lenet(batch=1), cores=(1, 2), batches=(1, 2))
    assert [(c.pipeline_cores, c.batch) for c in cands] == [(1, 1), (2, 1), (1, 2), (2, 2)]
    assert all(c.costs is not None for c in cands)
    assert cands[2].costs.batch == 2 and cands[1].costs.cores == 2
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    c = numpy_helper.from_array(np.ones((1, 4), np.float32), "c")
    pinned = helper.make_model(helper.make_graph([helper.make_node("Concat", ["x", "c"], ["y"], axis=1)], "g",
                                                 [x], [y], [c]), opset_imports=[helper.make_opsetid("", 17)])
    cands = compile_candidates(pinned, cores=(1,), batches=(1, 2, 4))
    assert cands[0].costs is not None
    assert all(c.costs is None and "--batch-size" in c.note for c in cands[1:])


def test_cli_on_a_model_file_and_on_a_neff(tmp_path):
    path = tmp_path / "lenet.onnx"
    onnx.save(modelzoo.lenet(batch=1), str(path))
    r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_estimate_main", str(path), "--latency-budget", "1",
                        "--pipeline-cores", "1,2", "--batch-sizes", "1,2", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["candidates"]) == 4 and doc["latency_budget_us"] == 1000
    assert all(row["latency_us"] <= 1000 and row["flags"].startswith(f"kaena-compile {path}")
               for row in doc["instances"])
    neff = tmp_path / "lenet.neff"
    kaena.compile(modelzoo.lenet(batch=1)).save(str(neff))
    r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_estimate_main", str(neff), "--latency-budget", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "kaena-run --copies 4" in r.stdout and "kaena-compile" not in r.stdout
    for bad in (["--latency-budget", "0"], ["--latency-budget", "x"], ["--pipeline-cores", "1,a"]):
        r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_estimate_main", str(path), *bad],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_estimate_main", str(neff), "--latency-budget", "1",
                        "--batch-sizes", "1,2"], capture_output=True, text=True)
    assert r.returncode == 1 and "need a model file" in r.stderr and "Traceback" not in r.stderr
