"""The channel dependency graph of a Keras model: which channels must be pruned together.

It walks the top-level graph of a Sequential or functional model (either Keras), from the
inputs to the outputs, and labels every channel of every tensor:

    Dense, Conv1D/2D/3D, SeparableConv (depth multiplier 1)   read their input channels (the
        input rows of their kernels) and produce new ones (the output columns)
    BatchNormalization, DepthwiseConv (multiplier 1), element-wise activations, dropout,
        pooling, padding, cropping, up-sampling                    keep each channel as it is
    Add, Subtract, Multiply, Average, Maximum, Minimum             tie their inputs' channels
        together (a residual add: both sides lose the same channels)
    Concatenate (last axis)                                        stacks its inputs' channels
    Reshape keeping the last axis (e.g. (C,) to (1, 1, C))         keeps each channel
    Flatten                                                        repeats each channel per
        position (a Dense after it reads each channel at every position)

Nested Sequential or functional models (a backbone) are walked inside. Channels of a model
input or output, of an unknown layer (its weights are then not pruned by channel), of a layer
kept dense (--ignore_layers) and of anything not channels-last cannot be removed;
`ChannelMap.fixed` says which and why. Torch-Pruning's dependency graph works the same way for
PyTorch.
"""
import numpy as np

from tfprune.masking import prunable
from tfprune.pruning.channels import FIXED, ChannelMap, Coupling

PRODUCERS = ("Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D")
DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D")
PER_CHANNEL = (
    "BatchNormalization", "ReLU", "LeakyReLU", "ELU", "Softplus", "Activation", "Dropout",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
    "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D")
MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
KNOWN = PRODUCERS + DEPTHWISE + PER_CHANNEL + MERGES + (
    "Concatenate", "Flatten", "Reshape", "InputLayer")
ACROSS_CHANNELS = ("softmax", "log_softmax")


def kind(layer):
    """The nearest built-in Keras class name of `layer` that the graph knows, else None."""
    for cls in type(prunable._unwrapped(layer)).__mro__:
        if cls.__module__.split(".")[0] in ("keras", "tf_keras") and cls.__name__ in KNOWN:
            return cls.__name__
    return None


def _node_inputs(node):
    tensors = getattr(node, "keras_inputs", None)  # tf_keras
    return list(node.input_tensors if tensors is None else tensors)


def _history(tensor):
    history = tensor._keras_history
    return history[0], history[1], history[2]


class _UnionFind:
    def __init__(self):
        self.parent = []

    def new(self, n):
        start = len(self.parent)
        self.parent.extend(range(start, start + n))
        return np.arange(start, start + n)

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        for i, j in zip(np.ravel(a), np.ravel(b)):
            self.parent[self.find(int(i))] = self.find(int(j))


class _Walk:
    """Labels every tensor of a graph model with raw channel ids, then merges them to classes.
    Paths name layers as the prunable walk does ("backbone/block_1_expand")."""

    def __init__(self, model, ignore):
        self.ids = _UnionFind()
        self.fixed = {}  # raw id -> why
        self.why = {}  # what -> why (for the log)
        self.kernel_ids = {}  # kernel path -> (rows, cols) raw ids
        self.layer_ids = {}  # layer path -> (input ids, output ids)
        self.spaces = {}  # layer path -> raw ids it produces
        self.outputs = {}  # id(layer) -> output ids, once per layer (shared layers)
        self.nested = set()  # id() of the nested models walked
        weights = prunable.walk(model, ignore)
        self.prunable = {w.key for w in weights if w.prunable}

    def fix(self, ids, what, why):
        for i in np.ravel(ids):
            self.fixed.setdefault(int(i), why)
        self.why.setdefault(what, why)

    def graph(self, model, inputs, prefix):
        """The ids of `model`'s outputs when its inputs carry `inputs` (ids per input)."""
        memo = {}
        for tensor, ids in zip(model.inputs, inputs):
            memo[self.key(tensor)] = ids
            if prefix:  # a nested model's input layer takes the kept channels
                self.layer_ids[prefix + _history(tensor)[0].name] = (ids, ids)
        return [self.tensor_ids(t, memo, prefix) for t in model.outputs]

    @staticmethod
    def key(tensor):
        layer, node_index, tensor_index = _history(tensor)
        return id(layer), node_index, tensor_index

    def tensor_ids(self, tensor, memo, prefix):
        key = self.key(tensor)
        if key not in memo:
            layer, node_index, tensor_index = _history(tensor)
            node = layer._inbound_nodes[node_index]
            inputs = [self.tensor_ids(t, memo, prefix) for t in _node_inputs(node)]
            layer = prunable._unwrapped(layer)
            if prunable.is_graph_model(layer) and id(layer) not in self.nested and len(
                    inputs) == len(layer.inputs):
                self.nested.add(id(layer))
                outputs = self.graph(layer, inputs, f"{prefix}{layer.name}/")
                for i, ids in enumerate(outputs):
                    memo[key[:2] + (i,)] = ids
                return memo[key]
            outputs = self.layer(layer, inputs, tensor, prefix)
            memo[key] = outputs if tensor_index == 0 else self.opaque(
                layer, inputs, tensor, prefix, "several outputs")
        return memo[key]

    def opaque(self, layer, inputs, tensor, prefix, why):
        for ids in inputs:
            self.fix(ids, prefix + layer.name, why)
        out = self.ids.new(int(tensor.shape[-1]))
        self.fix(out, prefix + layer.name, why)
        return out

    def layer(self, layer, inputs, tensor, prefix):
        k = kind(layer)
        config = layer.get_config()
        if k == "InputLayer":
            out = self.ids.new(int(tensor.shape[-1]))
            self.fix(out, "inputs", "the model's input")
            return out
        if k is None or config.get("data_format", "channels_last") != "channels_last":
            why = (f"layer type {type(layer).__name__} is not in the channel graph" if k is None
                   else "not channels-last")
            return self.opaque(layer, inputs, tensor, prefix, why)
        if k in MERGES:
            if len({len(ids) for ids in inputs}) > 1:
                return self.opaque(layer, inputs, tensor, prefix, "broadcasts across channels")
            for ids in inputs[1:]:
                self.ids.union(inputs[0], ids)
            return inputs[0]
        if k == "Concatenate":
            if config.get("axis", -1) not in (-1, len(tensor.shape) - 1):
                return self.opaque(layer, inputs, tensor, prefix,
                                   "concatenates along another axis")
            return np.concatenate(inputs)
        if k == "Flatten":
            return np.tile(inputs[0], int(np.prod(tensor.shape[1:])) // len(inputs[0]))
        (ids,) = inputs
        if k == "Reshape":  # row-major: the channels stay if the last axis does
            if int(tensor.shape[-1]) != len(ids):
                return self.opaque(layer, inputs, tensor, prefix, "reshapes the channel axis")
            self.layer_ids[prefix + layer.name] = (ids, ids)
            return ids
        if k in PER_CHANNEL:
            axis = np.ravel(config.get("axis", -1)).tolist()
            if k == "BatchNormalization" and axis not in ([-1], [len(tensor.shape) - 1]):
                return self.opaque(layer, inputs, tensor, prefix, "normalizes another axis")
            if k == "Activation" and config.get("activation") in ACROSS_CHANNELS:
                return self.opaque(layer, inputs, tensor, prefix, "a softmax mixes channels")
            self.layer_ids[prefix + layer.name] = (ids, ids)
            return ids
        return self.kernel_layer(layer, k, config, ids, tensor, prefix)

    def kernel_layer(self, layer, k, config, ids, tensor, prefix):
        path = prefix + layer.name
        names = {"depthwise": f"{path}/depthwise_kernel", "pointwise": f"{path}/pointwise_kernel",
                 "kernel": f"{path}/kernel"}
        mine = [key for key in names.values() if key in self.prunable]
        if not mine:
            return self.opaque(layer, [ids], tensor, prefix, "kept dense (not prunable here)")
        if config.get("groups", 1) != 1 or config.get("depth_multiplier", 1) != 1:
            return self.opaque(layer, [ids], tensor, prefix, "grouped or depth-multiplied")
        if k in DEPTHWISE:
            self.kernel_ids[names["depthwise"]] = (ids, np.full(1, FIXED))
            self.layer_ids[path] = (ids, ids)
            return ids
        if id(layer) not in self.outputs:
            self.outputs[id(layer)] = self.ids.new(int(tensor.shape[-1]))
            self.spaces[path] = self.outputs[id(layer)]
        out = self.outputs[id(layer)]
        if path in self.layer_ids:  # a shared layer: every call reads the same channels
            self.ids.union(self.layer_ids[path][0], ids)
        if config.get("activation") in ACROSS_CHANNELS:
            self.fix(out, path, "a softmax mixes channels")
        self.layer_ids[path] = (ids, out)
        if k.startswith("Separable"):
            self.kernel_ids[names["depthwise"]] = (ids, np.full(1, FIXED))
            self.kernel_ids[names["pointwise"]] = (ids, out)
        else:
            self.kernel_ids[names["kernel"]] = (ids, out)
        return out


def build(model, ignore=()):
    """The `ChannelMap` of `model`'s prunable kernels (see the module docstring).

    Raises:
        ValueError: `model` is not a Sequential or functional model (a subclassed model has
            no graph to follow), or no channel of it can be removed.
    """
    if not prunable.is_graph_model(model) or not getattr(model, "outputs", None):
        raise ValueError(f"--structure=channel needs a Sequential or functional model; "
                         f"{type(model).__name__} {model.name!r} has no layer graph to follow")
    walk = _Walk(model, ignore)
    inputs = [walk.ids.new(int(t.shape[-1])) for t in model.inputs]
    for ids in inputs:
        walk.fix(ids, "inputs", "the model's input")
    for ids in walk.graph(model, inputs, ""):
        walk.fix(ids, "outputs", "the model's output")
    for key in sorted(walk.prunable - set(walk.kernel_ids)):
        walk.why.setdefault(key.rsplit("/", 1)[0], "inside a layer the graph cannot enter")
    find = walk.ids.find
    roots = np.array([find(i) for i in range(len(walk.ids.parent))], dtype=np.int64)
    fixed_roots = {roots[i] for i in walk.fixed}
    free = sorted(set(roots.tolist()) - fixed_roots)
    label = np.full(len(roots), FIXED)
    index = {root: n for n, root in enumerate(free)}
    for i, root in enumerate(roots):
        label[i] = index.get(root, FIXED)

    def classes(ids):
        return label[np.asarray(ids, dtype=np.int64)] if len(ids) else np.zeros(0, int)

    spaces, owned = {}, set()
    for name, ids in walk.spaces.items():
        mine = [c for c in dict.fromkeys(classes(ids).tolist()) if c != FIXED and c not in owned]
        owned.update(mine)
        spaces[name] = np.array(mine, dtype=np.int64)
    kernels = {key: Coupling(classes(rows), classes(cols))
               for key, (rows, cols) in walk.kernel_ids.items()}
    if not free:
        reasons = [f"{k}: {v}" for k, v in walk.why.items()]
        more = f"; and {len(reasons) - 4} more" if len(reasons) > 4 else ""
        raise ValueError(f"--structure=channel: no channel of {model.name!r} can be removed "
                         f"({'; '.join(reasons[:4])}{more})")
    return ChannelMap(kernels, spaces, {n: (classes(a), classes(b))
                                        for n, (a, b) in walk.layer_ids.items()},
                      dict(walk.why), len(free))
