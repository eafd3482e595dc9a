"""Which weights of a Keras model are prunable, and the stable path that names each one.

One table, from built-in layer type to the attributes that hold its prunable weights,
serves both Kerases. It follows tfmot's prune registry, but also prunes depthwise
kernels (tfmot leaves DepthwiseConv2D dense and SeparableConv's depthwise half too).
A walk over the model goes into nested models and into the sublayers of layers the
table does not list (MultiHeadAttention's EinsumDense projections, a custom block),
and names every weight by its path: the layer names below the model, then the weight,
e.g. "backbone/block_1_expand/kernel" (a top-level layer's kernel is "fc/kernel").
The path is the same whichever Keras built the model. A layer that defines
`get_prunable_weights()` (tfmot's PrunableLayer protocol) chooses its own weights.
"""
import dataclasses

KERNELS = {
    **{name: ("kernel",) for name in (
        "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
        "Conv2DTranspose", "Conv3DTranspose", "LocallyConnected1D", "LocallyConnected2D")},
    "DepthwiseConv1D": ("depthwise_kernel",),
    "DepthwiseConv2D": ("depthwise_kernel",),
    "SeparableConv1D": ("depthwise_kernel", "pointwise_kernel"),
    "SeparableConv2D": ("depthwise_kernel", "pointwise_kernel"),
    "Embedding": ("embeddings",),
    **{name: ("kernel", "recurrent_kernel") for name in ("SimpleRNNCell", "LSTMCell", "GRUCell")},
}
# Keras 3 keeps a DepthwiseConv's kernel in `kernel`; its path says depthwise_kernel in
# both Kerases, so that a run directory reads the same whichever Keras wrote it.
ALIASES = {"depthwise_kernel": ("kernel",)}
NORMALIZATION = ("BatchNormalization", "SyncBatchNormalization", "LayerNormalization",
                 "GroupNormalization", "RMSNormalization", "UnitNormalization", "Normalization")

# Why a weight stays dense (the `reason` of a `Weight`).
IGNORED = "ignored (ignore=)"
NOT_A_KERNEL = "not a kernel (biases are never pruned)"
NORMALIZING = "normalization (never pruned)"
UNKNOWN = ("layer type {} is not in tfprune's table; define get_prunable_weights() on it "
           "to prune it")


@dataclasses.dataclass(frozen=True)
class Weight:
    """One weight of a model: its path, variable, layer, and whether it gets a mask.

    `unit` is the layer of a Sequential or functional model that holds it (tfmot wraps
    units); `reason` says why a weight is left dense ("" when it is prunable).
    """
    key: str
    variable: object
    layer: object
    unit: object
    prunable: bool
    reason: str = ""
    unit_prefix: str = ""  # the path of the model that holds `unit`

    @property
    def in_unit(self):
        """The path from the unit's name down (what its wrapper masks)."""
        return self.key[len(self.unit_prefix):]

    @property
    def size(self):
        return int(_size(self.variable.shape))


def _size(shape):
    total = 1
    for dim in shape:
        total *= int(dim)
    return total


def builtin_type(layer):
    """The name of the nearest built-in Keras class of `layer` listed in KERNELS or
    NORMALIZATION (a subclass of Conv2D counts as Conv2D), else None."""
    for cls in type(layer).__mro__:
        if cls.__module__.split(".")[0] in ("keras", "tf_keras") and (
                cls.__name__ in KERNELS or cls.__name__ in NORMALIZATION):
            return cls.__name__
    return None


def _attribute(layer, name):
    for attr in (name,) + ALIASES.get(name, ()):
        if hasattr(layer, attr):
            return getattr(layer, attr)
    raise AttributeError(f"{type(layer).__name__} {layer.name!r} has no {name}")


def short_name(variable):
    """A variable's own name ("kernel"), without its layer's scope or TF's ":0"."""
    return variable.name.split("/")[-1].split(":")[0]


def is_graph_model(layer):
    """Whether `layer` is a Sequential or functional model (whose layers tfmot can wrap)."""
    return bool(getattr(layer, "_is_graph_network", False)) or any(
        cls.__name__ in ("Sequential", "Functional") and
        cls.__module__.split(".")[0] in ("keras", "tf_keras") for cls in type(layer).__mro__)


def _unwrapped(layer):
    """The layer inside a tfmot pruning wrapper (the wrapper is transparent to paths)."""
    while any(cls.__name__ == "PruneLowMagnitude" for cls in type(layer).__mro__):
        layer = layer.layer
    return layer


def children(layer):
    """The layers directly inside `layer`: a model's layers, or a layer's sublayers."""
    if is_graph_model(layer):
        return [child for child in layer.layers if type(child).__name__ != "InputLayer"]
    return list(layer._flatten_layers(include_self=False, recursive=False))


def user_weights(layer):
    """The weights a layer names through `get_prunable_weights()`, or None."""
    function = getattr(layer, "get_prunable_weights", None)
    if not callable(function) or getattr(function, "tfprune", False):
        return None
    return list(function())


def walk(model, ignore=(), layer_only=False):
    """Every weight of `model` as a `Weight`, prunable ones first in model order.

    Args:
        model: a Keras model of either Keras (wrapped or not).
        layer_only: walk `model` as one layer (paths then start with its name).
        ignore: layer names (at any depth; a nested model's name covers all of it) or
            weight paths whose weights stay dense.

    Raises:
        ValueError: an `ignore` entry matches nothing, or two weights share a path.
    """
    ignore = set(ignore)
    found, matched, seen = [], set(), set()

    def add(key, variable, layer, unit, reason):
        unit, unit_prefix = unit
        if id(variable) in seen:  # a weight shared by two layers is listed once
            return
        seen.add(id(variable))
        hits = {part for part in key.split("/")[:-1] if part in ignore} | (
            {key} if key in ignore else set())
        matched.update(hits)
        if hits and not reason:
            reason = IGNORED
        found.append(Weight(key, variable, layer, unit, not reason, reason, unit_prefix))

    def visit(layer, prefix, unit):
        layer = _unwrapped(layer)
        path = f"{prefix}{layer.name}/"
        if is_graph_model(layer):
            for child in children(layer):
                visit(child, path, None)
            return
        unit = unit or (layer, prefix)
        chosen = user_weights(layer)
        kind = builtin_type(layer)
        if chosen is None and kind in KERNELS:
            chosen = [_attribute(layer, name) for name in KERNELS[kind]]
            names = KERNELS[kind]
        else:
            names = [short_name(v) for v in chosen or ()]
        subs = children(layer) if chosen is None else []
        for name, variable in zip(names, chosen or ()):
            add(path + name, variable, layer, unit, "")
        for sub in subs:
            visit(sub, path, unit)
        inner = {id(v) for sub in subs for v in sub.weights}
        for variable in layer.weights:
            if id(variable) in inner:
                continue
            if kind in NORMALIZATION:
                reason = NORMALIZING
            elif chosen is not None:
                reason = NOT_A_KERNEL
            else:
                reason = UNKNOWN.format(type(layer).__name__)
            add(path + short_name(variable), variable, layer, unit, reason)

    for child in ([model] if layer_only else children(model)):
        visit(child, "", None)
    if ignore - matched:
        names = sorted({w.key.rsplit("/", 1)[0] for w in found})
        raise ValueError(f"layers to ignore not in the model: {sorted(ignore - matched)}; "
                         f"layers: {names}")
    keys = [w.key for w in found]
    clashes = sorted({k for k in keys if keys.count(k) > 1})
    if clashes:
        raise ValueError(f"two weights share the path {clashes[0]!r}: give their layers "
                         "distinct names")
    return sorted(found, key=lambda w: not w.prunable)


def table(weights):
    """Rows (path, shape, size, "masked" or "dense: why") for every weight, and a summary
    line: how many prunable weights have masks out of all weights."""
    rows = [(w.key, tuple(int(d) for d in w.variable.shape), w.size,
             "masked" if w.prunable else f"dense: {w.reason}") for w in weights]
    masked = sum(w.size for w in weights if w.prunable)
    total = sum(w.size for w in weights) or 1
    kernels = sum(1 for w in weights if w.prunable)
    dense = {}
    for w in weights:
        if not w.prunable:
            dense[w.reason] = dense.get(w.reason, 0) + w.size
    summary = (f"masked {masked:,} of {total:,} weights ({100 * masked / total:.1f}%) in "
               f"{kernels} tensors; dense: " + (", ".join(
                   f"{count:,} {reason}" for reason, count in dense.items()) or "none"))
    return rows, summary
