"""``kaena-neff``: inspect, check, unpack/pack, disassemble and assemble NEFF files.

    kaena-neff info FILE [--json]        versions, compiler, name, uuid, cores, I/O, size by section
    kaena-neff verify FILE               every reader check, the static operand checks, the allocation check
    kaena-neff unpack FILE DIR           archive members (+ header.json) into DIR
    kaena-neff pack DIR FILE             the reverse; unpack -> pack gives the same bytes
    kaena-neff disasm FILE [-o OUT]      per-core, per-engine instruction listing
    kaena-neff asm LISTING -o FILE (--weights DIR | --like ORIGINAL.neff)

Every failure is one ``kaena-neff: error: <file>: <reason>`` line and exit 1
(``kaena.tools.cli.run_tool``). The functions below are what the commands run,
so tests and the fuzzer call them in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys

from kaena.errors import KaenaError, NeffError
from kaena.isa import INSTR_DTYPE, Engine
from kaena.neff.archive import archive_budget, read_file_bytes
from kaena.neff.container import pack_members, read_neff_bytes, read_neff_parts
from kaena.neff.layout import MAX_CORES, NeffHeader
from kaena.neff.info import neff_info
from kaena.neff.listing import assemble, disassemble, neff_weights
from kaena.neff import Neff
from kaena.files import atomic_write
from kaena.tools.cli import run_tool

PROG = "kaena-neff"
HEADER_JSON = "header.json"  # unpack's copy of the header fields the archive does not repeat


# --------------------------------------------------------------------------- info


def format_info(info: dict) -> str:
    def io(t):
        return f"    {t['name']}  [{','.join(map(str, t['shape']))}]  {t['dtype']}"

    size = info["size"]
    un = size["uncompressed"]
    lines = [
        f"file:             {info['file']}",
        f"format version:   {info['format_version']}",
        f"compiler version: {info['compiler_version']}",
        f"name:             {info['name']}",
        f"target:           {info['target']}",
        f"uuid:             {info['uuid']}",
        f"sha256:           {info['sha256']}",
        f"cores:            {info['cores']}",
        "inputs:",
        *[io(t) for t in info["inputs"]],
        "outputs:",
        *[io(t) for t in info["outputs"]],
        "size by section (bytes):",
        f"    file            {size['file']:>12}",
        f"    header          {size['header']:>12}",
        f"    archive         {size['archive']:>12}  (compressed)",
        f"      json          {un['json']:>12}  (uncompressed)",
        f"      instructions  {un['instructions']:>12}  (uncompressed, {INSTR_DTYPE.itemsize} bytes per record)",
        f"      sources       {un['sources']:>12}  (uncompressed, 4 bytes per record)",
        f"      constants     {un['constants']:>12}  (uncompressed)",
    ]
    if "pipeline" in info:
        chips = len({st["chip"] for st in info["pipeline"]})
        lines.append(f"NeuronCore Pipeline: {len(info['pipeline'])} stages on {len(info['pipeline'])} cores, {chips} chip(s)")
        for st in info["pipeline"]:
            frm = ", ".join(f"stage {k}" for k in st["receives_from"]) or "the host"
            to = ", ".join(f"stage {k}" for k in st["sends_to"]) or "the host"
            lines.append(
                f"  stage {st['stage']}: core {st['core']} chip {st['chip']}; from {frm}, to {to}; weights "
                f"{st['weight_bytes']} bytes; SBUF peak {st['sbuf_peak_bytes']} bytes"
            )
    for c in info["per_core"]:
        recs = ", ".join(f"{e} {n}" for e, n in c["records"].items())
        lines.append(
            f"core {c['core']}: {recs} records; {c['variables']} variables; constants {c['constant_bytes']} bytes; "
            f"SBUF peak {c['sbuf_peak_bytes']}, PSUM peak {c['psum_peak_bytes']}"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- verify


def verify_neff(data: bytes, source: str) -> str:
    """Reader checks, then the simulator's static operand checks (bounds,
    alignment, shapes) on every stream, then (when the NEFF carries an allocation
    table) the allocation check replayed without numbers; returns the one-line verdict."""
    from kaena.simulator.allocation import check_allocation
    from kaena.simulator.memory import SLOTS, DecodedAP, check_stream

    header, _members, neff = read_neff_parts(data, source)
    target = neff.target_description  # the one the NEFF declares
    records = 0
    for k, sg in enumerate(neff.subgraphs):
        for e in Engine:
            rec = sg.stream(e)
            records += len(rec)
            try:
                check_stream(k, e, rec, sg.variables, target, {s: DecodedAP(rec[s]) for s in SLOTS})
            except KaenaError as err:
                raise NeffError(f"{source}: invalid program: {err}") from None
    try:  # replays the streams without numbers: every read sees its tile's write
        alloc = check_allocation(neff)
    except KaenaError as err:
        raise NeffError(f"{source}: invalid program: {err}") from None
    checked = f", allocation check passed ({alloc.tiles} tiles)" if alloc else ", no allocation table"
    return (
        f"{source}: OK: NEFF {header.version[0]}.{header.version[1]} '{neff.name}' by '{neff.compiler_version}', "
        f"{neff.num_cores} core(s), {records} instructions{checked}, sha256 {header.sha256.hex()}"
    )


# --------------------------------------------------------------------------- unpack / pack


def unpack_neff(data: bytes, source: str, directory: str) -> list[str]:
    """Write every archive member (validated first) and header.json under ``directory``."""
    header, members, _neff = read_neff_parts(data, source)
    if os.path.lexists(directory):
        if not os.path.isdir(directory) or os.path.islink(directory):
            raise KaenaError(f"{directory}: exists and is not a directory")
        if os.listdir(directory):
            raise KaenaError(f"{directory}: directory is not empty; unpack into a new or empty directory")
    else:
        try:
            os.makedirs(directory)
        except OSError as e:
            raise KaenaError(f"{directory}: cannot create directory ({e.strerror})") from None
    written = []
    files = dict(members)
    files[HEADER_JSON] = (json.dumps(_header_json(header), indent=2, sort_keys=True) + "\n").encode()
    for name in sorted(files):
        # names were validated by the reader: neff.json or sgNN/<plain name>
        path = os.path.join(directory, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, files[name])
        written.append(name)
    return written


def _header_json(h: NeffHeader) -> dict:
    return {
        "format_version": {"major": h.version[0], "minor": h.version[1]},
        "compiler_version": h.compiler_version,
        "name": h.name,
        "num_tpb": h.num_tpb,
        "uuid": h.uuid.hex(),
        "sha256": h.sha256.hex(),
        "data_size": h.data_size,
    }


def pack_directory(directory: str) -> bytes:
    """Rebuild a NEFF from an unpacked directory (regular files only, no links)."""
    if not os.path.isdir(directory):
        raise KaenaError(f"{directory}: no such directory (give the DIR written by 'kaena-neff unpack')")
    members: dict[str, bytes] = {}
    budget = archive_budget(MAX_CORES)
    total = 0
    uuid = b""
    for root, dirs, names in os.walk(directory, followlinks=False):
        dirs.sort()
        for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory).replace(os.sep, "/")
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                raise KaenaError(f"{path}: not a regular file (links and devices cannot go into a NEFF)")
            total += st.st_size
            if total > budget:
                raise KaenaError(f"{directory}: more than {budget} bytes; not a NEFF directory")
            with open(path, "rb") as f:
                raw = f.read(st.st_size + 1)
            if rel == HEADER_JSON:
                uuid = _uuid_from_header_json(raw, path)
            else:
                members[rel] = raw
    return pack_members(members, uuid, source=directory)


def _uuid_from_header_json(raw: bytes, path: str) -> bytes:
    try:
        h = json.loads(raw.decode("utf-8"))
        uuid = bytes.fromhex(h["uuid"]) if isinstance(h, dict) and "uuid" in h else b""
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, RecursionError) as e:
        raise KaenaError(f"{path}: not a valid header.json ({e}); delete it to derive a new uuid") from None
    if uuid and len(uuid) != 16:
        raise KaenaError(f"{path}: 'uuid' must be 32 hex digits")
    return uuid


# --------------------------------------------------------------------------- asm


def assemble_listing(text: str, source: str, weights_dir: str | None = None, like: str | None = None) -> bytes:
    """Listing -> validated NEFF bytes; constants from an unpacked DIR or an original NEFF."""
    original: Neff | None = None
    if weights_dir is not None:
        original = read_neff_bytes(pack_directory(weights_dir), weights_dir)
    elif like is not None:
        original = read_neff_bytes(read_file_bytes(like), like)
    neff = assemble(text, neff_weights(original) if original is not None else None, source)
    data = neff.to_bytes()
    read_neff_bytes(data, f"{source} (assembled)")
    return data


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Inspect, check, unpack/pack, disassemble and assemble NEFF files")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    s = sub.add_parser("info", help="format/compiler version, name, uuid, cores, inputs/outputs, size by section")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="print the information as JSON")
    s = sub.add_parser("verify", help="check the whole file (hash, archive, schemas, every record)")
    s.add_argument("file")
    s = sub.add_parser("unpack", help="write the archive members and header.json into DIR")
    s.add_argument("file")
    s.add_argument("dir")
    s = sub.add_parser("pack", help="build a NEFF from a DIR written by unpack")
    s.add_argument("dir")
    s.add_argument("file")
    s = sub.add_parser("disasm", help="readable per-core, per-engine instruction listing")
    s.add_argument("file")
    s.add_argument("-o", "--output", help="write the listing here instead of stdout")
    s = sub.add_parser("asm", help="assemble a listing (as disasm prints it) into a NEFF")
    s.add_argument("listing")
    s.add_argument("-o", "--output", required=True, help="NEFF file to write")
    src = s.add_mutually_exclusive_group()
    src.add_argument("--weights", metavar="DIR", help="constants from a directory written by 'kaena-neff unpack'")
    src.add_argument("--like", metavar="ORIGINAL.neff", help="constants from an existing NEFF")
    return p


def _main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "info":
        info = neff_info(read_file_bytes(args.file), args.file)
        sys.stdout.write(json.dumps(info, indent=2) + "\n" if args.json else format_info(info))
    elif args.cmd == "verify":
        print(verify_neff(read_file_bytes(args.file), args.file))
    elif args.cmd == "unpack":
        names = unpack_neff(read_file_bytes(args.file), args.file, args.dir)
        print(f"{PROG}: wrote {len(names)} files to {args.dir}")
    elif args.cmd == "pack":
        data = pack_directory(args.dir)
        atomic_write(args.file, data)
        print(f"{PROG}: wrote {args.file} ({len(data)} bytes)")
    elif args.cmd == "disasm":
        text = disassemble(read_neff_bytes(read_file_bytes(args.file), args.file))
        if args.output:
            atomic_write(args.output, text.encode())
        else:
            sys.stdout.write(text)
    elif args.cmd == "asm":
        try:
            with open(args.listing, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise KaenaError(f"{args.listing}: cannot read the listing ({getattr(e, 'strerror', None) or e})") from None
        data = assemble_listing(text, args.listing, args.weights, args.like)
        atomic_write(args.output, data)
        print(f"{PROG}: wrote {args.output} ({len(data)} bytes)")
    return 0


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_tool(PROG, lambda: _main(argv)))


if __name__ == "__main__":
    main()

