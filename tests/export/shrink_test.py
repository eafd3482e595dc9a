"""The smaller model of a channel mask computes what the masked model computes, holds only the
kept channels, and a missed coupling or a model that cannot be rebuilt is one clear error."""
import numpy as np
import pytest

from tfprune.export import shrink
from tfprune.masking import channel_graph, kerases, prunable
from tfprune.models import registry as models
from tfprune.pruning import channels

from masking.channel_graph_test import branchy

FLAVOURS = pytest.mark.parametrize("flavour", kerases.FLAVOURS)


def masked(model, seed=0, share=0.35, consumers=True):
    """`model` with random BatchNorm statistics and a random `share` of its channel classes
    pruned (`consumers`=False leaves the reading kernels' rows in: a missed coupling)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if len(w.shape) == 1:
            w.assign(rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32))
    cmap = channel_graph.build(model)
    keep = rng.random(cmap.num_classes) > share
    weights = {w.key: w.variable for w in prunable.walk(model) if w.prunable}
    masks = channels.expand(cmap, keep, {k: tuple(v.shape) for k, v in weights.items()})
    for key, mask in masks.items():
        if not consumers:
            mask = np.broadcast_to(channels.keep_of(cmap.kernels[key].cols, keep), mask.shape)
        weights[key].assign(weights[key].numpy() * mask)
    x = rng.normal(size=(8,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)
    return cmap, keep, x


@FLAVOURS
@pytest.mark.parametrize("name", ["convnet", pytest.param("resnet20", marks=pytest.mark.slow),
                                  pytest.param("branchy", marks=pytest.mark.slow)])
def test_the_smaller_model_computes_what_the_masked_one_does(flavour, name):
    k = kerases.keras(flavour)
    model = (branchy(k) if name == "branchy" else
             models.get(name, (40, 1) if name == "convnet" else (32, 32, 3), 10, keras=k))
    cmap, keep, x = masked(model)
    small = shrink.check(shrink.shrink(model, cmap, keep), model, x)
    assert small.difference <= 1e-5  # measured <= 1.2e-6 (see shrink.TOLERANCE)
    assert small.weights < small.original_weights
    assert type(small.model) is type(model) and kerases.of(small.model) == flavour
    for w in prunable.walk(model):
        if w.prunable:
            c = cmap.kernels[w.key]
            shape = small.model.get_layer(w.key.split("/")[0])
            for part in w.key.split("/")[1:-1]:
                shape = shape.get_layer(part)
            got = [v for v in shape.weights if v.name.split("/")[-1].split(":")[0] in (
                w.key.split("/")[-1], "kernel")][0].shape
            assert tuple(got)[-2:] == (channels.keep_of(c.rows, keep).sum(),
                                       channels.keep_of(c.cols, keep).sum()), w.key


@FLAVOURS
def test_a_missed_coupling_is_caught_before_anything_is_used(flavour):
    model = models.get("convnet", (40, 1), 10, keras=kerases.keras(flavour))
    cmap, keep, x = masked(model, consumers=False)
    with pytest.raises(ValueError, match="^the model rebuilt from its .* kept channels differs "
                                         "from the masked model by .* a coupling was missed$"):
        shrink.check(shrink.shrink(model, cmap, keep), model, x)


def test_a_model_whose_config_cannot_be_rebuilt_is_one_line():
    k = kerases.keras(kerases.KERAS3)

    class Scale(k.layers.Layer):  # not registered as serializable
        def call(self, x):
            return 2.0 * x

    x_in = k.Input((6,))
    h = k.layers.Dense(5, name="hidden")(x_in)
    model = k.Model(x_in, k.layers.Dense(2, name="out")(Scale(name="scale")(h)))
    model2 = k.Model(x_in, k.layers.Dense(2, name="out2")(
        k.layers.Dense(4, name="h2")(model(x_in))))
    cmap = channel_graph.build(model2)
    with pytest.raises(ValueError, match="^cannot rebuild .* with fewer channels from its config "
                                         ".*layers of your own must be registered as "
                                         "serializable$"):
        shrink.shrink(model2, cmap, np.zeros(cmap.num_classes, bool) | True)
