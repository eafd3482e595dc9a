"""A channel-pruned model rebuilt from its surviving channels only: a smaller dense Keras model.

The model's config is copied with each layer's `filters` or `units` cut to the channels it
keeps, rebuilt by its own class (Sequential or functional, either Keras), and every weight
is sliced along its channel axes: a kernel's input rows and output columns, a bias, a
BatchNorm's four vectors, a depthwise filter. Before the smaller model is used, `check`
compares it with the masked model on real inputs.
"""
import dataclasses

import numpy as np

from tfprune.core import logs
from tfprune.masking import channel_graph, prunable
from tfprune.pruning import channels as channel_maths

# Largest |difference| of the outputs, relative to the outputs' largest |value|, that `check`
# accepts. Measured with random BatchNorm statistics, a third of the channels pruned, both
# Kerases: float32 sums in another order give up to 1e-6 (convnet, ResNet-20/50, MobileNetV2)
# and 8e-6 (EfficientNetB0); a consumer's weights of pruned channels left in give ~1e-1.
TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Shrunk:
    """The smaller model, the channels it kept out of those it could remove, its weights
    against the original's, and the measured relative output difference."""
    model: object
    channels_kept: int
    channels: int
    weights: int
    original_weights: int
    difference: float = float("nan")


def _sizes(channels, keep):
    """{layer path: its new number of output channels}."""
    return {name: int(channel_maths.keep_of(cols, keep).sum())
            for name, (_, cols) in channels.layers.items()}


def _slice(layer, weights, rows, cols):
    """`layer`'s weights (get_weights order) cut to the kept input `rows` and output `cols`
    (bool over its input and output channels)."""
    k = channel_graph.kind(layer)
    if k == "BatchNormalization":
        return [w[rows] for w in weights]
    if k in channel_graph.DEPTHWISE:
        return [w[..., rows, :] if w.ndim > 1 else w[rows] for w in weights]
    out = []
    for i, w in enumerate(weights):
        if w.ndim == 1:
            out.append(w[cols])
        elif k.startswith("Separable") and i == 0:  # the depthwise half
            out.append(w[..., rows, :])
        else:
            out.append(w[..., rows, :][..., cols])
    return out


def _resize(config, sizes, prefix=""):
    """Cuts the `filters` or `units` of the layers in `sizes` (paths) in a model's config."""
    for layer in config["layers"]:
        layer.pop("build_config", None)  # Keras 3 would build each layer at its old shape
        own = layer["config"]
        path = prefix + own.get("name", "")
        if "layers" in own:  # a nested model
            _resize(own, sizes, path + "/")
        elif path in sizes and "target_shape" in own:  # a Reshape keeping the channel axis
            own["target_shape"] = [*own["target_shape"][:-1], sizes[path]]
        elif path in sizes and layer.get("class_name") == "InputLayer":  # of a nested model
            for key in ("batch_shape", "batch_input_shape"):
                if own.get(key):
                    own[key] = [*own[key][:-1], sizes[path]]
        elif path in sizes:
            for key in ("filters", "units"):
                if key in own:
                    own[key] = sizes[path]


def _copy(model, small, channels, keep, prefix=""):
    """Sets `small`'s weights to `model`'s, sliced to the kept channels."""
    for layer in model.layers:
        path = prefix + layer.name
        target = small.get_layer(layer.name)
        if prunable.is_graph_model(layer):
            _copy(layer, target, channels, keep, path + "/")
            continue
        weights = layer.get_weights()
        if weights and path in channels.layers:
            rows, cols = (channel_maths.keep_of(ids, keep) for ids in channels.layers[path])
            weights = _slice(layer, weights, rows, cols)
        if weights:
            target.set_weights(weights)


def shrink(model, channels, keep):
    """The `Shrunk` of `model` (unwrapped, its masks applied) keeping the classes `keep`
    (bool over `channels`' classes).

    Raises:
        ValueError: the model's config cannot be rebuilt (a layer of the user's own that is
            not registered as serializable).
    """
    config = model.get_config()
    _resize(config, _sizes(channels, keep))
    try:
        small = type(model).from_config(config)
    except Exception as e:  # noqa: BLE001 (any failure of the user's config is this one error)
        raise ValueError(f"cannot rebuild {model.name!r} with fewer channels from its config "
                         f"({type(e).__name__}: {logs.one_line(e)}); layers of your own must "
                         "be registered as serializable") from None
    _copy(model, small, channels, keep)
    return Shrunk(small, int(keep.sum()), len(keep), int(small.count_params()),
                  int(model.count_params()))


def check(shrunk, model, inputs, tolerance=TOLERANCE):
    """`shrunk` with its measured difference from `model` on `inputs`; raises ValueError if
    the largest |difference| of their outputs exceeds `tolerance` x their largest |output|."""
    expected = np.asarray(model(inputs, training=False))
    got = np.asarray(shrunk.model(inputs, training=False))
    difference = float(np.max(np.abs(got - expected)) / max(np.max(np.abs(expected)), 1e-12))
    if not difference <= tolerance:
        raise ValueError(f"the model rebuilt from its {shrunk.channels_kept} kept channels "
                         f"differs from the masked model by {difference:.2e} of its largest "
                         f"output (more than {tolerance:.0e}): a coupling was missed")
    return dataclasses.replace(shrunk, difference=difference)

