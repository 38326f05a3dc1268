"""Latency and throughput of a compiled model on each Inf1 instance size.

The model (``docs/profiling.md``, "Estimates"):

- A NEFF compiled for n cores (n subgraphs) is one *copy*; an instance with C
  cores runs ``copies = C // n`` of them in parallel (fewer if their DRAM
  variables do not fit the chips' device DRAM).
- Device time: the simulator's cycle count (timing only; subgraphs run in
  series), plus a NeuronLink transfer for each tensor a subgraph passes to a
  subgraph on another chip (cores fill chips in order).
- Latency = host-to-device transfer of every input + device time +
  device-to-host transfer of every output, each transfer at the target's PCIe
  cost (fixed latency + bytes / bandwidth).
- A pipeline NEFF (``execution`` "pipeline", its subgraphs running at once, one per
  core) is timed by streaming requests through it (``kaena.simulator.pipeline``):
  its latency and steady-state interval come from that run, NeuronLink sends included.
- Each run of the NEFF serves ``batch`` inferences (``metadata["batch"]``, the
  leading dimension of the model's inputs recorded by ``kaena.compile``; 1 if absent).
- Throughput = batch x copies / max(copy interval, copies sharing a host link x host
  time): a copy accepts a new request every *interval* (its device time; for
  a pipeline of n > 1 subgraphs, its slowest stage plus all its chip
  crossings, since requests stream through the stages), and a host link at
  the target's PCIe cost carries its copies' inputs and outputs in turn. By
  default every Inferentia chip has its own link (each chip is its own PCIe
  device, so transfers to different chips overlap); ``host_link="instance"``
  is the pessimistic bound of one link shared by every copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from kaena.target.costmodel import CostModel
from kaena.isa import DType, ceil_div
from kaena.neff import Neff
from kaena.simulator import SimResult, simulate
from kaena.target import NeuronCoreTarget


@dataclass(frozen=True)
class InstanceEstimate:
    instance: str
    cores: int
    copies: int  # 0: the model does not fit (see ``note``)
    latency_us: float
    throughput_per_s: float  # inferences: batch x copies per interval
    bound: str  # "device" or "host": what limits throughput
    note: str = ""
    config: str = ""  # the configuration reached: copies x cores per copy, batch


@dataclass(frozen=True)
class ModelCosts:
    """Per-inference costs of one copy, in cycles."""

    cores: int
    device_cycles: int
    stage_cycles: int  # the slowest subgraph: a pipeline's interval
    link_cycles: int  # NeuronLink crossings between chips
    host_in_cycles: int
    host_out_cycles: int
    dram_bytes: int  # device DRAM one copy occupies (all its variables)
    batch: int = 1  # inferences per run of the NEFF
    pipeline_interval: int | None = None  # a pipeline NEFF's streamed steady-state interval

    @property
    def latency_cycles(self) -> int:
        return self.host_in_cycles + self.device_cycles + self.link_cycles + self.host_out_cycles

    @property
    def interval_cycles(self) -> int:
        if self.pipeline_interval is not None:
            return self.pipeline_interval
        return (self.device_cycles if self.cores == 1 else self.stage_cycles) + self.link_cycles


def _spec_bytes(spec) -> int:
    return int(np.prod(spec.shape, dtype=np.int64)) * DType.from_name(spec.dtype).itemsize


def model_costs(neff: Neff, result: SimResult | None = None, target: NeuronCoreTarget | None = None) -> ModelCosts:
    """One copy's costs; ``result`` is a simulation of ``neff`` (a timing-only one is run if absent)."""
    target = target or neff.target_description
    cm = CostModel(target)
    if result is None:
        result = simulate(neff, {}, timing_only=True, check_hazards=False, target=target)
    if neff.execution == "pipeline":
        from kaena.simulator.pipeline import stream_requests

        timing = stream_requests(neff, PIPELINE_REQUESTS, target)
        return ModelCosts(
            cores=neff.num_cores, device_cycles=timing.latency, stage_cycles=timing.interval, link_cycles=0,
            host_in_cycles=sum(cm.host_transfer(_spec_bytes(s)) for s in neff.inputs),
            host_out_cycles=sum(cm.host_transfer(_spec_bytes(s)) for s in neff.outputs),
            dram_bytes=_dram_bytes(neff), batch=batch_of(neff), pipeline_interval=timing.interval,
        )
    link = 0
    producer: dict[str, int] = {}  # tensor name -> latest subgraph that outputs it
    for k, sg in enumerate(neff.subgraphs):
        for v in sg.variables:
            j = producer.get(v.name)
            if v.kind == "input" and j is not None and j // target.cores_per_chip != k // target.cores_per_chip:
                link += cm.neuronlink(v.nbytes)
        for v in sg.variables:
            if v.kind == "output":
                producer[v.name] = k
    return ModelCosts(
        cores=max(1, neff.num_cores),
        device_cycles=int(result.cycles),
        stage_cycles=max([int(c) for c in result.core_cycles] or [0]),
        link_cycles=link,
        host_in_cycles=sum(cm.host_transfer(_spec_bytes(s)) for s in neff.inputs),
        host_out_cycles=sum(cm.host_transfer(_spec_bytes(s)) for s in neff.outputs),
        dram_bytes=_dram_bytes(neff),
        batch=batch_of(neff),
    )


PIPELINE_REQUESTS = 4  # requests a pipeline's timing run streams (the interval is steady by then)


def _dram_bytes(neff: Neff) -> int:
    return sum(v.nbytes for sg in neff.subgraphs for v in sg.variables
               if v.kind in ("input", "output", "file", "tmp-buf"))


def batch_of(neff: Neff) -> int:
    """Inferences one run of ``neff`` serves: ``metadata["batch"]``, else 1."""
    b = neff.metadata.get("batch", 1) if isinstance(neff.metadata, dict) else 1
    return b if isinstance(b, int) and not isinstance(b, bool) and b >= 1 else 1


HOST_LINKS = ("instance", "chip")


def estimate(neff: Neff, result: SimResult | None = None, target: NeuronCoreTarget | None = None,
             host_link: str = "chip") -> list[InstanceEstimate]:
    """One row per instance size of ``target``; ``host_link``: one PCIe link per instance or per chip."""
    target = target or neff.target_description
    if host_link not in HOST_LINKS:
        raise ValueError(f"host_link must be one of {HOST_LINKS}")
    mc = model_costs(neff, result, target)
    return [instance_estimate(mc, inst, target, host_link) for inst in target.instances]


def instance_estimate(mc: ModelCosts, inst, target: NeuronCoreTarget, host_link: str = "chip") -> InstanceEstimate:
    """As many copies of a model of costs ``mc`` as fit on instance size ``inst``."""
    cm = CostModel(target)
    copies = inst.neuron_cores // mc.cores
    note = ""
    if copies == 0:
        note = f"needs {mc.cores} cores, the instance has {inst.neuron_cores}"
    elif mc.dram_bytes:
        fit = inst.chips * target.dram_bytes_per_chip // mc.dram_bytes
        if fit < copies:
            copies, note = fit, f"device DRAM holds {fit} copies"
    if copies == 0:
        return InstanceEstimate(inst.name, inst.neuron_cores, 0, float("nan"), 0.0, "-", note or "does not fit")
    sharing = copies if host_link == "instance" else ceil_div(copies, inst.chips)
    host = sharing * (mc.host_in_cycles + mc.host_out_cycles)
    period = max(mc.interval_cycles, host)
    return InstanceEstimate(
        inst.name, inst.neuron_cores, copies,
        latency_us=cm.cycles_to_us(mc.latency_cycles),
        throughput_per_s=mc.batch * copies * target.clock_hz / period if period else float("inf"),
        bound="host" if host > mc.interval_cycles else "device",
        note=note,
        config=f"{copies} x {'pipeline of %d cores' % mc.cores if mc.cores > 1 else '1 core'}"
               + (f", batch {mc.batch}" if mc.batch > 1 else ""),
    )


def estimate_json(neff: Neff, result: SimResult | None = None, target: NeuronCoreTarget | None = None,
                  host_link: str = "chip") -> dict:
    target = target or neff.target_description
    mc = model_costs(neff, result, target)
    cm = CostModel(target)
    return {
        "model": neff.name,
        "cores_per_copy": mc.cores,
        "batch": mc.batch,
        "execution": neff.execution,
        "device_us": cm.cycles_to_us(mc.device_cycles),
        "interval_us": cm.cycles_to_us(mc.interval_cycles),
        "neuronlink_us": cm.cycles_to_us(mc.link_cycles),
        "host_in_us": cm.cycles_to_us(mc.host_in_cycles),
        "host_out_us": cm.cycles_to_us(mc.host_out_cycles),
        "latency_us": cm.cycles_to_us(mc.latency_cycles),
        "host_link": host_link,
        "instances": [
            {**asdict(r), "latency_us": None if r.copies == 0 else r.latency_us}
            for r in estimate(neff, result, target, host_link)
        ],
    }


def format_estimate(doc: dict) -> str:
    """The ``kaena-estimate`` table from ``estimate_json``'s document."""
    lines = [
        f"{doc['model']}: {doc['cores_per_copy']} core(s) per copy; per inference: host->device "
        f"{doc['host_in_us']:.1f} us + device {doc['device_us']:.1f} us"
        + (f" + NeuronLink {doc['neuronlink_us']:.1f} us" if doc["neuronlink_us"] else "")
        + f" + device->host {doc['host_out_us']:.1f} us = {doc['latency_us']:.1f} us",
        f"copies run in parallel, one host link per {doc['host_link']}"
        + (f"; {doc['batch']} inferences per run (batch)" if doc.get("batch", 1) > 1 else "")
        + ("; the pipeline's interval from streamed requests: "
           f"{doc['interval_us']:.1f} us" if doc.get("execution") == "pipeline" else ""),
        "",
        f"  {'instance':<14} {'cores':>5} {'copies':>6} {'latency us':>11} {'inferences/s':>13}  bound   configuration",
    ]
    for r in doc["instances"]:
        if r["copies"] == 0:
            lines.append(f"  {r['instance']:<14} {r['cores']:>5} {0:>6} {'-':>11} {'-':>13}  {r['note']}")
            continue
        lines.append(
            f"  {r['instance']:<14} {r['cores']:>5} {r['copies']:>6} {r['latency_us']:>11.1f} "
            f"{r['throughput_per_s']:>13.0f}  {r['bound']:<6}  {r['config']}" + (f" ({r['note']})" if r["note"] else "")
        )
    return "\n".join(lines)
