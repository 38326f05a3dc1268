"""Same model and options -> byte-identical NEFF, whatever the hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
import hashlib, sys
import kaena
from kaena.testing import modelzoo
from kaena.neff.listing import disassemble
for name, model, opts in (
    ("lenet", modelzoo.lenet(batch=2), {}),
    ("lenet-fp32", modelzoo.lenet(batch=1), {"auto_cast": "none"}),
    ("mlp-fp16", modelzoo.mlp(batch=3), {"auto_cast": "all", "auto_cast_type": "fp16"}),
):
    neff = kaena.compile(model, **opts)
    data = neff.to_bytes()
    print(name, hashlib.sha256(data).hexdigest(), hashlib.sha256(disassemble(neff).encode()).hexdigest(), len(data))
"""


def _digests(seed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3
    return lines


def test_compile_is_byte_identical_across_hash_seeds():
    a, b = _digests("0"), _digests("4242")
    assert a == b
    assert len({line.split()[1] for line in a}) == 3  # the three files really differ from each other
