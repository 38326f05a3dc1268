"""Model parameters live outside the textual IR.

IR refers to a weight by name (``fw.weight``, ``ktensor.weight``, the
Inferentia dialect's DRAM constants); the values sit in a ``WeightStore``.
A module names its store with the ``kaena.weights`` attribute: a path to an
``.npz`` file (relative to the IR file that mentions it) or an in-memory key
``mem:<n>`` for stores created in this process by ``kaena.compile``. So a
100 MB model prints and parses as fast as a small one. Stores are registered
weakly: the modules that name them keep them alive, so a compiled model's
weights are freed with its IR instead of staying for the life of the process.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import itertools
import math
import mmap
import os
import weakref
import zipfile
from collections.abc import Iterator

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import ModuleOp, StringAttr

from kaena.errors import KaenaError
from kaena.files import atomic_write

WEIGHTS_ATTR = "kaena.weights"

# npz cannot hold ml_dtypes arrays (bfloat16, float8...): they are saved as
# same-width unsigned ints under "<name>@@<dtype name>" and viewed back on load.
_DTYPE_MARKER = "@@"
_ML_DTYPES = {
    name: np.dtype(getattr(ml_dtypes, name))
    for name in ("bfloat16", "float8_e4m3fn", "float8_e5m2")
    if hasattr(ml_dtypes, name)
}


def _encode_key(name: str, value: np.ndarray) -> str:
    if value.dtype.name in _ML_DTYPES and value.dtype == _ML_DTYPES[value.dtype.name]:
        return f"{name}{_DTYPE_MARKER}{value.dtype.name}"
    return name


def _encode_array(value: np.ndarray) -> np.ndarray:
    if value.dtype.name in _ML_DTYPES and value.dtype == _ML_DTYPES[value.dtype.name]:
        return value.view(f"u{value.dtype.itemsize}")
    return value


def _decode(key: str, value: np.ndarray) -> tuple[str, np.ndarray]:
    name, marker, dtype = key.rpartition(_DTYPE_MARKER)
    if marker and dtype in _ML_DTYPES:
        return name, value.view(_ML_DTYPES[dtype])
    return key, value


class MappedFile:
    """A file that weights are mapped from, held open while any of its ``MappedArray`` is."""

    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "rb")

    def fileno(self) -> int:
        return self._file.fileno()


class MappedArray:
    """A weight left in its file (a model's initializer): mapped read-only each time it
    is read and unmapped when the reader lets go, so it costs memory only while in use."""

    def __init__(self, file: MappedFile, offset: int, shape: tuple[int, ...], dtype: np.dtype):
        self.file, self.offset, self.shape, self.dtype = file, offset, tuple(shape), np.dtype(dtype)

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def load(self) -> np.ndarray:
        count = math.prod(self.shape)
        if count == 0:
            return np.zeros(self.shape, self.dtype.newbyteorder("="))
        start = self.offset - self.offset % mmap.ALLOCATIONGRANULARITY
        end = self.offset + self.nbytes
        fd = self.file.fileno()
        if os.fstat(fd).st_size < end:
            raise KaenaError(f"{self.file.path}: the file was cut short while in use (its weights are read "
                             "from it during the compile); compile again from a file left in place")
        view = mmap.mmap(fd, end - start, offset=start, access=mmap.ACCESS_READ)
        arr = np.frombuffer(view, self.dtype, count, self.offset - start).reshape(self.shape)
        return arr if self.dtype.isnative else arr.astype(self.dtype.newbyteorder("="))

    def read(self) -> np.ndarray:
        """A copy in memory, read from the file (not mapped: no page of the file stays in
        this process), for an owner that outlives the compile, such as a ``Neff``."""
        arr = np.empty(self.shape, self.dtype)
        buf = memoryview(arr.reshape(-1).view(np.uint8))
        fd, done = self.file.fileno(), 0
        while done < len(buf):
            got = os.preadv(fd, [buf[done:]], self.offset + done)
            if got == 0:
                raise KaenaError(f"{self.file.path}: the file was cut short while in use (its weights are read "
                                 "from it during the compile); compile again from a file left in place")
            done += got
        return arr if self.dtype.isnative else arr.astype(self.dtype.newbyteorder("="))


class WeightStore:
    """Name -> numpy array, with content-derived names for new entries. An entry may be
    a ``MappedArray`` (read from its file on each access, never held in memory)."""

    def __init__(self, arrays: dict[str, np.ndarray] | None = None):
        self._arrays: dict[str, np.ndarray | MappedArray] = dict(arrays or {})
        # names added since the store was created or loaded: a tool that
        # prints IR referring to them must save the store beside it
        self.added: set[str] = set()
        # this store's name in the in-memory registry, once registered
        self._memory_key: str | None = None

    def __contains__(self, name: str) -> bool:
        return name in self._arrays

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            value = self._arrays[name]
        except KeyError:
            raise KaenaError(f"weight '{name}' is not in the weight store") from None
        return value.load() if isinstance(value, MappedArray) else value

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._arrays))

    def __len__(self) -> int:
        return len(self._arrays)

    def add(self, name: str, value: np.ndarray) -> str:
        """Store ``value`` under ``name`` (overwriting); returns the name."""
        # np.require keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d).
        self._arrays[name] = np.require(value, requirements="C")
        self.added.add(name)
        return name

    def add_mapped(self, name: str, value: MappedArray) -> str:
        """Store a weight that stays in its file under ``name``; returns the name."""
        self._arrays[name] = value
        self.added.add(name)
        return name

    def materialize(self, names: set[str]) -> None:
        """Read the named weights that are still in their file into memory (``MappedArray.read``)."""
        for name in names:
            value = self._arrays.get(name)
            if isinstance(value, MappedArray):
                self._arrays[name] = value.read()

    def retain(self, names: set[str]) -> None:
        """Drop every entry not in ``names`` (weights no IR refers to any more), freeing them."""
        dropped = [n for n in self._arrays if n not in names]
        for name in dropped:
            del self._arrays[name]
            self.added.discard(name)
        if dropped:
            _return_freed_memory()

    def add_derived(self, base: str, value: np.ndarray) -> str:
        """Store a value derived from ``base`` (folded, re-laid-out) under a
        deterministic name built from its contents."""
        value = np.require(value, requirements="C")
        h = hashlib.sha256(value.reshape(-1).view(np.uint8) if value.size else b"")
        h.update(str(value.dtype).encode() + str(value.shape).encode())
        digest = h.hexdigest()[:10]
        return self.add(f"{base}.{digest}", value)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays.values())

    # --- files ----------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write an uncompressed ``.npz`` atomically (temp file + rename)."""
        buf = io.BytesIO()
        np.savez(buf, **{_encode_key(k, a): _encode_array(a) for k in sorted(self._arrays) for a in (self[k],)})
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: str) -> "WeightStore":
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(dict(_decode(k, data[k]) for k in data.files))
        except FileNotFoundError:
            raise KaenaError(f"{path}: weight file not found") from None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise KaenaError(f"{path}: not a readable weight file ({e})") from None


def _libc_malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def _return_freed_memory() -> None:
    """Hand freed heap pages back to the OS: glibc keeps arrays under its (adaptive) mmap
    threshold in the heap, so dropped weights would otherwise stay in the process."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


# The registries are weak: a store lives while something uses it (a module that
# names it, a compile, a caller) and is freed with the last of them, not at exit.
# In-memory stores, keyed by the ``mem:`` names modules carry.
_MEMORY_STORES: weakref.WeakValueDictionary[str, WeightStore] = weakref.WeakValueDictionary()
# Stores loaded from files, keyed by absolute path (shared while in use).
_FILE_STORES: weakref.WeakValueDictionary[str, WeightStore] = weakref.WeakValueDictionary()
# What keeps a store alive: each module object holds the (reference, store) it
# named when attached or last resolved, for as long as the module exists.
_MODULE_STORES: weakref.WeakKeyDictionary[ModuleOp, tuple[str, WeightStore]] = weakref.WeakKeyDictionary()
# ``mem:`` names are never reused (``id()`` would be, once a store is freed).
_MEMORY_KEYS = itertools.count(1)


def register_in_memory(store: WeightStore) -> str:
    """The ``mem:`` name of ``store`` in this process (registered weakly: the
    caller, or the module ``attach`` gives it to, keeps it alive)."""
    key = store._memory_key
    if key is None or _MEMORY_STORES.get(key) is not store:
        key = f"mem:{next(_MEMORY_KEYS):x}"
        store._memory_key = key
        _MEMORY_STORES[key] = store
    return key


def attach(module: ModuleOp, store: WeightStore) -> None:
    """Make ``module`` refer to ``store`` (in memory); the module keeps it alive."""
    key = register_in_memory(store)
    module.attributes[WEIGHTS_ATTR] = StringAttr(key)
    _MODULE_STORES[module] = (key, store)


def store_for(module: ModuleOp, base_dir: str | None = None) -> WeightStore:
    """The store a module names; an empty store if it names none."""
    attr = module.attributes.get(WEIGHTS_ATTR)
    if attr is None:
        return WeightStore()
    if not isinstance(attr, StringAttr):
        raise KaenaError(f"module attribute {WEIGHTS_ATTR} must be a string")
    ref = attr.data
    held = _MODULE_STORES.get(module)
    if held is not None and held[0] == ref:
        return held[1]
    if ref.startswith("mem:"):
        store = _MEMORY_STORES.get(ref)
        if store is None:
            raise KaenaError(f"in-memory weight store '{ref}' is not loaded in this process")
    else:
        path = ref if os.path.isabs(ref) else os.path.join(base_dir or os.getcwd(), ref)
        path = os.path.abspath(path)
        store = _FILE_STORES.get(path)
        if store is None:
            store = WeightStore.load(path)
            _FILE_STORES[path] = store
    # From now on the module refers to this store object (and keeps it alive), so
    # passes that add derived weights see and extend the same object.
    _MODULE_STORES[module] = (ref, store)
    return store


def set_default_base_dir(path: str | None) -> None:
    """Tools set this to the directory of the IR file being processed, so
    relative ``kaena.weights`` paths resolve beside it."""
    global _DEFAULT_BASE_DIR
    _DEFAULT_BASE_DIR = path


_DEFAULT_BASE_DIR: str | None = None


def module_store(module: ModuleOp) -> WeightStore:
    """``store_for`` with the tool-configured base directory."""
    return store_for(module, _DEFAULT_BASE_DIR)
