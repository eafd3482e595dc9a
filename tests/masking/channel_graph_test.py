"""The channel dependency graph: coupled weights share a class (the next layer's input rows,
BatchNorm, depthwise filters, both sides of a residual add, concatenations, a Dense after
Flatten), every prunable kernel it can reach has a coupling, and nothing of a pruned channel
reaches the output: the masked model's outputs do not move when a pruned channel's
BatchNorm and biases do."""
import numpy as np
import pytest

from tfprune.masking import channel_graph, kerases, prunable
from tfprune.models import registry as models
from tfprune.pruning import channels
from tfprune.pruning.channels import FIXED

import user_models

FLAVOURS = pytest.mark.parametrize("flavour", kerases.FLAVOURS)


def branchy(k):
    """Depthwise, separable, concatenation, gating, a shared layer and a nested block."""
    inner_in = k.Input((8, 8, 6))
    inner = k.Model(inner_in, k.layers.Conv2D(6, 1, name="mix")(inner_in), name="inner")
    x_in = k.Input((8, 8, 3))
    x = k.layers.Conv2D(6, 3, padding="same", name="stem")(x_in)
    x = k.layers.BatchNormalization(name="stem_bn")(x)
    x = k.layers.ReLU(name="stem_relu")(x)
    d = k.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    d = k.layers.BatchNormalization(name="dw_bn")(d)
    a = k.layers.Conv2D(5, 1, name="a")(d)
    b = k.layers.SeparableConv2D(4, 3, padding="same", name="b")(x)
    c = k.layers.Concatenate(name="cat")([a, b])
    g = k.layers.GlobalAveragePooling2D(name="squeeze")(c)
    g = k.layers.Dense(9, activation="sigmoid", name="gate")(g)
    c = k.layers.Multiply(name="scale")([c, k.layers.Reshape((1, 1, 9), name="unsq")(g)])
    e = k.layers.Conv2D(6, 1, name="e")(c)
    e = k.layers.Add(name="res")([e, inner(e)])
    shared = k.layers.Dense(7, name="shared")
    p = k.layers.GlobalMaxPooling2D(name="p1")(e)
    q = k.layers.GlobalAveragePooling2D(name="p2")(e)
    h = k.layers.Add(name="both")([shared(p), shared(q)])
    out = k.layers.Dense(3, name="head")(k.layers.ReLU(name="h_relu")(h))
    return k.Model(x_in, out, name="branchy")


def cols(cmap, name):
    return cmap.kernels[name].cols


def rows(cmap, name):
    return cmap.kernels[name].rows


@FLAVOURS
def test_the_convnet_couples_each_conv_with_the_next_and_flatten_with_the_head(flavour):
    model = models.get("convnet", (40, 1), 10, keras=kerases.keras(flavour))
    cmap = channel_graph.build(model)
    assert set(cmap.kernels) == {w.key for w in prunable.walk(model) if w.prunable}
    assert (rows(cmap, "block1_conv/kernel") == FIXED).all()  # the model's input
    np.testing.assert_array_equal(rows(cmap, "block2_conv/kernel"),
                                  cols(cmap, "block1_conv/kernel"))
    np.testing.assert_array_equal(cmap.layers["block2_bn"][0], cols(cmap, "block2_conv/kernel"))
    # Flatten (10 positions x 64 channels): the head reads each channel at every position
    np.testing.assert_array_equal(rows(cmap, "fc1/kernel"),
                                  np.tile(cols(cmap, "block3_conv/kernel"), 10))
    assert (cols(cmap, "fc/kernel") == FIXED).all()  # the logits
    assert cmap.num_classes == 32 + 64 + 64 + 128


@FLAVOURS
def test_residual_adds_tie_both_sides_to_one_class(flavour):
    cmap = channel_graph.build(models.get("resnet20", (32, 32, 3), 10,
                                          keras=kerases.keras(flavour)))
    stem = cols(cmap, "stem_conv/kernel")
    for block in ("s1_b1", "s1_b2", "s1_b3"):  # identity shortcuts: the stem's channels
        np.testing.assert_array_equal(cols(cmap, f"{block}_conv2/kernel"), stem)
    np.testing.assert_array_equal(cols(cmap, "s2_b1_shortcut_conv/kernel"),
                                  cols(cmap, "s2_b1_conv2/kernel"))
    assert len(set(cols(cmap, "s1_b1_conv1/kernel")) & set(stem)) == 0
    np.testing.assert_array_equal(cmap.spaces["stem_conv"], stem)
    assert "s1_b1_conv2" not in cmap.spaces or not len(cmap.spaces["s1_b1_conv2"])


@FLAVOURS
def test_depthwise_separable_concatenation_gating_shared_and_nested_layers(flavour):
    model = branchy(kerases.keras(flavour))
    cmap = channel_graph.build(model)
    assert set(cmap.kernels) == {w.key for w in prunable.walk(model) if w.prunable}
    stem = cols(cmap, "stem/kernel")
    np.testing.assert_array_equal(rows(cmap, "dw/depthwise_kernel"), stem)
    np.testing.assert_array_equal(rows(cmap, "a/kernel"), stem)  # through the depthwise conv
    np.testing.assert_array_equal(rows(cmap, "b/depthwise_kernel"), stem)
    np.testing.assert_array_equal(rows(cmap, "b/pointwise_kernel"), stem)
    cat = np.concatenate([cols(cmap, "a/kernel"), cols(cmap, "b/pointwise_kernel")])
    np.testing.assert_array_equal(rows(cmap, "gate/kernel"), cat)
    np.testing.assert_array_equal(cols(cmap, "gate/kernel"), cat)  # gate x channels: tied
    np.testing.assert_array_equal(rows(cmap, "e/kernel"), cat)
    np.testing.assert_array_equal(cols(cmap, "inner/mix/kernel"), cols(cmap, "e/kernel"))
    np.testing.assert_array_equal(rows(cmap, "inner/mix/kernel"), cols(cmap, "e/kernel"))
    np.testing.assert_array_equal(rows(cmap, "shared/kernel"), cols(cmap, "e/kernel"))
    np.testing.assert_array_equal(rows(cmap, "head/kernel"), cols(cmap, "shared/kernel"))


def _pruned_channels_reach_nothing(model, cmap, seed=0):
    """Prunes a random third of the classes, then moves every BatchNorm value, bias and
    depthwise filter of the pruned channels: the outputs must stay."""
    rng = np.random.default_rng(seed)
    keep = rng.random(cmap.num_classes) > 0.35
    weights = {w.key: w for w in prunable.walk(model) if w.prunable}
    masks = channels.expand(cmap, keep, {k: tuple(w.variable.shape) for k, w in weights.items()})
    for key, mask in masks.items():
        weights[key].variable.assign(weights[key].variable.numpy() * mask)
    x = rng.normal(size=(4,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)
    before = np.asarray(model(x, training=False))
    moved = 0
    for w in prunable.walk(model):
        path = w.key.rsplit("/", 1)[0]
        if w.prunable or path not in cmap.layers or len(w.variable.shape) != 1:
            continue
        pruned = ~channels.keep_of(cmap.layers[path][1], keep)
        value = w.variable.numpy()
        value[pruned] = rng.uniform(0.5, 3.0, size=pruned.sum())  # variances stay positive
        w.variable.assign(value)
        moved += int(pruned.sum())
    assert moved > 0
    after = np.asarray(model(x, training=False))
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4 * np.abs(before).max())


@FLAVOURS
@pytest.mark.parametrize("name", ["convnet", pytest.param("resnet20", marks=pytest.mark.slow)])
def test_nothing_of_a_pruned_channel_reaches_the_output(flavour, name):
    shape = (40, 1) if name == "convnet" else (32, 32, 3)
    model = models.get(name, shape, 10, keras=kerases.keras(flavour))
    _pruned_channels_reach_nothing(model, channel_graph.build(model))


@pytest.mark.slow
@FLAVOURS
def test_nothing_of_a_pruned_channel_reaches_the_output_of_a_branchy_model(flavour):
    model = branchy(kerases.keras(flavour))
    _pruned_channels_reach_nothing(model, channel_graph.build(model))


@pytest.mark.slow
@pytest.mark.parametrize("flavour, name", [("2", "mobilenetv2"), ("3", "efficientnetb0"),
                                           ("3", "transfer")])  # each Keras, each kind
def test_applications_and_a_nested_backbone_are_covered(flavour, name):
    model = user_models.MODELS[name](kerases.keras(flavour))
    cmap = channel_graph.build(model)
    assert set(cmap.kernels) == {w.key for w in prunable.walk(model) if w.prunable}
    assert not channels.unfit(cmap, {k: None for k in cmap.kernels})
    _pruned_channels_reach_nothing(model, cmap)


@FLAVOURS
def test_what_stays_whole_is_said(flavour):
    k = kerases.keras(flavour)
    model = user_models.transformer(k)
    cmap = channel_graph.build(model, ignore=("head",))
    assert cmap.fixed["ln1"] == "layer type LayerNormalization is not in the channel graph"
    assert cmap.fixed["patches"] == "reshapes the channel axis"
    assert cmap.fixed["head"] == "kept dense (not prunable here)"
    unfit = channels.unfit(cmap, {w.key: w.variable.shape for w in prunable.walk(
        model, ("head",)) if w.prunable})
    assert "mha/query/kernel" in unfit and "mlp1/kernel" not in unfit
    np.testing.assert_array_equal(rows(cmap, "mlp2/kernel"), cols(cmap, "mlp1/kernel"))


@FLAVOURS
def test_a_model_without_a_graph_or_without_removable_channels_is_one_line(flavour):
    k = kerases.keras(flavour)
    with pytest.raises(ValueError, match="^--structure=channel needs a Sequential or functional "
                                         "model; Net 'net' has no layer graph to follow$"):
        channel_graph.build(user_models.subclassed(k))
    tiny = k.Sequential([k.Input((4,)), k.layers.Dense(2, name="only")])
    with pytest.raises(ValueError, match="^--structure=channel: no channel of .* can be "
                                         "removed \\(inputs: the model's input; outputs"):
        channel_graph.build(tiny)
