"""The emission walk over one ``func.func``: DRAM variables, value views, dispatch
to the op families, errors. Decisions come from ``FunctionPlan`` (the plan
attributes); nothing here chooses."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import TensorType, f32, i1
from xdsl.ir import Attribute, Operation, SSAValue

from kaena.dialects.attributes import sources_of
from kaena.dialects.inferentia import CoreOp, SbufType, ap
from kaena.errors import CompileError
from kaena.target.tiling import cdiv

from .bias_table import BiasTables
from .builder import Builder
from .planning import FunctionPlan, io_names, nodes
from .utils import hint, storage_type
from .views import DramView, SbufView, View, into_sbuf, sbuf_to_dram


def io_type(t: Attribute) -> Attribute:
    """The NEFF element type of a model input or output: bool (i1) travels as float32
    0.0/1.0, the masks' storage (``masks.MASK_STORAGE``); the host converts."""
    return f32 if t == i1 else t


class FunctionLowering:
    """Lowers one ``func.func`` of planned ktensor ops into the body of an ``inf.core``."""

    def __init__(self, plan: FunctionPlan):
        self.plan = plan
        self.target = plan.target
        self.cm = plan.cm
        self.budget = plan.budget
        self.b = Builder()
        self.views: dict[SSAValue, View] = {}
        self.direct: dict[SSAValue, DramView] = {}  # values written straight into an output
        # resident results and the outputs they are written to once made (a pipeline stage's sends)
        self.sent: dict[SSAValue, list[DramView]] = {}
        self.weights: dict[str, SSAValue] = {}  # weight name -> its file variable
        self.identity: dict[str, SSAValue] = {}  # dtype -> identity tile (diagonal stationaries)
        self.bias_tables = BiasTables(self)
        self.tmp_count = 0
        self.current: Operation | None = None  # the op being lowered, for messages

    def pc(self, channels: int) -> int:
        return self.plan.pc(channels)

    def view(self, v: SSAValue) -> View:
        return self.views[v]

    def take_sends(self, value: SSAValue) -> list[DramView]:
        """The outputs resident result ``value`` is written to, for its producer to store as
        it makes them (band by band, the sends overlapping its compute); taken, they are not
        stored again once it is made."""
        return self.sent.pop(value, [])

    def error(self, why: str) -> CompileError:
        assert self.current is not None
        return self.plan.error(self.current, why)

    # --- DRAM variables ---------------------------------------------------------
    def dram(self, kind: str, name: str, shape: Sequence[int], element_type: Attribute) -> SSAValue:
        return self.b.dram(kind, name, shape, element_type)

    def scratch(self, shape: Sequence[int], element_type: Attribute) -> SSAValue:
        """A fresh ``tmp`` DRAM variable."""
        var = self.dram("tmp", f"t{self.tmp_count}", shape, element_type)
        self.tmp_count += 1
        return var

    def tmp(self, value: SSAValue) -> DramView:
        t = value.type
        assert isinstance(t, TensorType)
        # an i1 value (a broadcast or slice of a mask) is stored as its f32 0/1
        return DramView(self.scratch(t.get_shape(), storage_type(t.element_type)), tuple(t.get_shape()))

    def weight(self, name: str, t: TensorType) -> SSAValue:
        """The file variable of weight ``name``, declared once."""
        if name not in self.weights:
            self.weights[name] = self.dram("file", name, t.get_shape(), t.element_type)
        return self.weights[name]

    def destination(self, value: SSAValue) -> View:
        """Where an op writes ``value``: the function's output, its resident tile, or scratch."""
        return self.direct.get(value) or self.resident_tile(value) or self.tmp(value)

    def resident_tile(self, value: SSAValue) -> SbufView | None:
        """The SBUF tile of a value planned resident (zero-filled when it is
        stored with padding: its producers write the interior only)."""
        pads = self.plan.resident_pads(value)
        if pads is None:
            return None
        t = value.type
        assert isinstance(t, TensorType)
        shape = tuple(t.get_shape())
        pc = self.pc(shape[1])
        free = cdiv(shape[1], pc) * shape[0] * (shape[2] + pads[0] + pads[2]) * (shape[3] + pads[1] + pads[3])
        tile = self.b.alloc(SbufType, pc, free, self.plan.stored_type(value),
                            hint(value.name_hint or "act") + "_sb", resident=True)
        view = SbufView(tile, shape, pc, pads)
        if any(pads):
            self._zero_padding(view, free)
        return view

    def _zero_padding(self, v: SbufView, free: int) -> None:
        """Zero the padding of every stored plane, not the interior its producer writes
        (the vector engine's cost is the elements it sets): the top and bottom rows, the
        first interior row's left padding, then per interior row its right padding with the
        next row's left (contiguous), the last row's right padding alone."""
        b, (pt, pl, pb, pr) = self.b, v.pads
        planes, (H, W) = free // v.plane, v.shape[2:]
        if pt:
            b.memset(v.tile, ap(0, v.pc, 0, [[planes, v.plane], [pt * v.Wp, 1]]), 0.0)
        if pb:
            b.memset(v.tile, ap(0, v.pc, (pt + H) * v.Wp, [[planes, v.plane], [pb * v.Wp, 1]]), 0.0)
        if pl:  # the first interior row's left padding
            b.memset(v.tile, ap(0, v.pc, pt * v.Wp, [[planes, v.plane], [pl, 1]]), 0.0)
        right = pt * v.Wp + pl + W  # the first interior row's right padding
        if (pl or pr) and H > 1:
            b.memset(v.tile, ap(0, v.pc, right, [[planes, v.plane], [H - 1, v.Wp], [pr + pl, 1]]), 0.0)
        if pr:  # the last interior row's
            b.memset(v.tile, ap(0, v.pc, right + (H - 1) * v.Wp, [[planes, v.plane], [pr, 1]]), 0.0)

    # --- driver -----------------------------------------------------------------
    def _prefetches(self) -> dict[Operation, list[tuple[Operation, int, int]]]:
        """Op -> the (matmul, first K tile, K tiles) weight loads issued just before it
        (``kaena.plan.weight_prefetch``, as the op's family reads it)."""
        out: dict[Operation, list[tuple[Operation, int, int]]] = {}
        for op in self.plan.ops:
            family = self.plan.family(op)
            if family is None:
                continue
            self.current = op
            kt0 = 0
            for anchor, nk in family.prefetch_anchors(op, self.plan):
                out.setdefault(anchor, []).append((op, kt0, nk))
                kt0 += nk
        return out

    def run(self, core: int) -> CoreOp:
        fn, plan = self.plan.fn, self.plan
        args = fn.body.block.args
        for arg, name in zip(args, io_names(fn.arg_attrs, len(args), "input")):
            t = arg.type
            self.views[arg] = DramView(self.dram("input", name, t.get_shape(), io_type(t.element_type)),
                                       tuple(t.get_shape()))
        ret = plan.ret
        outputs: list[DramView] = []
        for value, name in zip(ret.arguments, io_names(fn.res_attrs, len(ret.arguments), "output")):
            t = value.type
            assert isinstance(t, TensorType)
            outputs.append(DramView(self.dram("output", name, t.get_shape(), io_type(t.element_type)),
                                    tuple(t.get_shape())))
        for arg in args:  # a pipeline stage's input planned resident: loaded first
            tile = self.resident_tile(arg)
            if tile is not None:
                into_sbuf(self.b, self.views[arg], tile, 0)
                self.views[arg] = tile
        sent = self.sent  # resident results: written out once made
        for i, value in enumerate(ret.arguments):
            if plan.resident_pads(value) is not None and isinstance(value.owner, Operation):
                sent.setdefault(value, []).append(outputs[i])
        for root, i in plan.direct.items():
            if root not in sent:
                self.direct[root] = DramView(outputs[i].var, tuple(root.type.get_shape()))
        prefetches = self._prefetches()
        for op in plan.ops:
            for mm, kt0, nk in prefetches.get(op, ()):
                self.current = mm
                with self.b.lowering(plan.sources(mm)):
                    plan.family(mm).prefetch(self, mm, kt0, nk)
            if plan.is_absorbed(op) and not plan.is_fused_cast(op):
                continue  # its producer's epilogue writes its result
            self.current = op
            family = plan.family(op)
            if family is None:
                names = nodes(sources_of(op))
                what = f"{names} ('{op.name}')" if names else f"'{op.name}'"
                raise CompileError(
                    f"cannot lower {what} to Inferentia: only ktensor ops are supported here "
                    "(run convert-framework-to-tensor first)"
                )
            with self.b.lowering(plan.sources(op)):
                family.lower(self, op)
                made = plan.materialized(op)
                if made in sent and made in self.views:  # once (a fused cast lowers with its producer)
                    for out in sent.pop(made):
                        sbuf_to_dram(self.b, self.views[made], out, 0)
        self.bias_tables.emit()
        self.current = ret
        for value, out in zip(ret.arguments, outputs):
            src = self.views[value]
            if value in sent:
                raise CompileError(f"internal error: the resident result {value.name_hint} was never written")
            if plan.resident_pads(value) is not None and isinstance(value.owner, Operation):
                continue  # written out once made
            if isinstance(src, SbufView):  # a resident argument returned as it is
                sbuf_to_dram(self.b, src, out, 0)
            elif src.var is not out.var:
                n = src.size
                self.b.dma(out.var, ap(0, 1, 0, [[n, 1]]), src.var, ap(0, 1, 0, [[n, 1]]))
        return self.b.finish(core)
