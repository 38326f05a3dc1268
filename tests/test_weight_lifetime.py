"""A weight store lives only as long as something uses it: compiling a model and
dropping what refers to it frees its arrays (no process-wide registry keeps them)."""

from __future__ import annotations

import gc
import weakref

import kaena
from kaena import weights
from kaena.driver import CompileReport
from kaena.frontends.onnx import core as onnx_core
from kaena.testing import modelzoo


def test_store_is_freed_after_compile(monkeypatch):
    made: list[weakref.ref] = []

    def attach(module, store):
        made.append(weakref.ref(store))
        weights.attach(module, store)

    monkeypatch.setattr(onnx_core, "attach", attach)
    neff = kaena.compile(modelzoo.lenet())
    # the module's cycle goes first; the registry's weakref callback then drops its entry,
    # and the store (itself in a cycle) goes in the next collection
    for _ in range(3):
        gc.collect()
    assert neff.name and len(made) == 1
    assert made[0]() is None
    assert not any(s is made[0]() for s in weights._MEMORY_STORES.values())


def test_store_lives_while_its_module_does():
    report = CompileReport()
    kaena.compile(modelzoo.mlp(batch=1), report=report)
    store = weights.module_store(report.module)
    ref, key = weakref.ref(store), store._memory_key
    assert len(store) and weights._MEMORY_STORES[key] is store
    del store
    gc.collect()
    assert ref() is not None  # the report's module still names it
    assert weights.module_store(report.module) is ref()
    report.module = None
    gc.collect()
    assert ref() is None and key not in weights._MEMORY_STORES


def test_memory_names_are_not_reused():
    a = weights.WeightStore()
    key = weights.register_in_memory(a)
    assert weights.register_in_memory(a) == key
    del a
    gc.collect()
    assert weights.register_in_memory(weights.WeightStore()) != key
