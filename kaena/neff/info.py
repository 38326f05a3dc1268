"""What ``kaena-neff info`` reports about a NEFF file, as JSON-able data: the
tools print it, the fuzzer checks that every file either gets it or a clean
error."""

from __future__ import annotations

from kaena.isa import Engine
from kaena.neff.container import read_neff_parts
from kaena.neff.layout import HEADER_SIZE


def _member_kind(name: str) -> str:
    """Which section of the size report an archive member counts in."""
    if name.endswith(".json"):
        return "json"
    if name.endswith(".src.bin"):
        return "sources"  # per-record source indices, beside the record streams
    return "instructions" if name.endswith(".bin") else "constants"


def neff_info(data: bytes, source: str) -> dict:
    """Everything ``info`` prints, as JSON-able data (after full validation)."""
    header, members, neff = read_neff_parts(data, source)
    compressed = len(data) - HEADER_SIZE
    sections: dict[str, int] = {"header": HEADER_SIZE, "archive": compressed}
    uncompressed = {"json": 0, "instructions": 0, "sources": 0, "constants": 0}
    for name, raw in members.items():
        uncompressed[_member_kind(name)] += len(raw)
    cores = []
    for k, sg in enumerate(neff.subgraphs):
        cores.append({
            "core": k,
            "records": {e.stream_name: int(len(sg.stream(e))) for e in Engine},
            "variables": len(sg.variables),
            "constant_bytes": sum(len(members[m]) for m in members if m.startswith(f"sg{k:02d}/") and m.endswith(".npy")),
            "sbuf_peak_bytes": sg.sbuf_peak_bytes,
            "psum_peak_bytes": sg.psum_peak_bytes,
            "sources": len(sg.sources),
        })
    extra = {}
    if neff.execution == "pipeline":
        extra["pipeline"] = pipeline_info(neff)
    return {
        **extra,
        "file": source,
        "format_version": f"{header.version[0]}.{header.version[1]}",
        "compiler_version": neff.compiler_version,
        "name": neff.name,
        "target": neff.target,
        "uuid": header.uuid.hex(),
        "sha256": header.sha256.hex(),
        "cores": neff.num_cores,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in neff.inputs],
        "outputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in neff.outputs],
        "size": {"file": len(data), **sections, "uncompressed": uncompressed},
        "per_core": cores,
    }


def pipeline_info(neff) -> list[dict]:
    """Per stage of a pipeline NEFF: its core and chip, where its inputs come from and its
    outputs go, and the weight bytes it holds (its ``file`` variables)."""
    from kaena.neff.container import subgraph_sources

    sources = subgraph_sources(neff)
    readers: dict[str, list[int]] = {}
    for k, src in enumerate(sources):
        for name, frm in src.items():
            if frm != "model":
                readers.setdefault(f"{frm}/{name}", []).append(k)
    stages = []
    for k, sg in enumerate(neff.subgraphs):
        d = f"sg{k:02d}"
        stages.append({
            "stage": k,
            "core": sg.core,
            "chip": sg.chip,
            "receives_from": sorted({int(frm[2:]) for frm in sources[k].values() if frm != "model"}),
            "sends_to": sorted({c for v in sg.variables if v.kind == "output" for c in readers.get(f"{d}/{v.name}", [])}),
            "weight_bytes": sum(v.nbytes for v in sg.variables if v.kind == "file"),
            "sbuf_peak_bytes": sg.sbuf_peak_bytes,
        })
    return stages
