"""Tests of the model registry and architectures."""
import numpy as np
import pytest

from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tfmot as _tfmot

keras, tfmot = _keras("2"), _tfmot()
from tfprune.models import registry

# (input_shape, num_classes) configurations built for every model.
CONFIGS = {
    "lenet300_100": [((28, 28, 1), 10)],
    "convnet": [((40, 1), 10), ((28, 28, 1), 10)],
    "resnet20": [((32, 32, 3), 10)],
    "resnet18": [((32, 32, 3), 10)],
    "vgg16": [((32, 32, 3), 10)],
    "resnet50": [((64, 64, 3), 200)],
}

# (count_params(), trainable params). count_params() also counts the
# non-trainable BN moving mean/variance (2 per BN channel); the literature
# (PyTorch) numbers are the trainable ones.
EXPECTED_PARAMS = {
    # 784*300+300 + 300*100+100 + 100*10+10 = 266,610 (LeCun et al.; LTH paper).
    ("lenet300_100", (28, 28, 1)): (266_610, 266_610),
    ("convnet", (40, 1)): (114_858, 114_538),
    ("convnet", (28, 28, 1)): (459_050, 458_730),
    # He et al. report 0.27M (option A); 1x1 conv + BN shortcuts add 2,752.
    ("resnet20", (32, 32, 3)): (274_042, 272_474),
    # CIFAR ResNet-18 (kuangliu/pytorch-cifar): 11,173,962.
    ("resnet18", (32, 32, 3)): (11_183_562, 11_173_962),
    # open_lth cifar_vgg_16 has conv biases (+4,224): 14,728,266; ours are bias-free.
    ("vgg16", (32, 32, 3)): (14_732_490, 14_724_042),
    # torchvision ResNet-50 25,557,032 - 2048*1000-1000 + 2048*200+200 = 23,917,832.
    ("resnet50", (64, 64, 3)): (23_970_952, 23_917_832),
}

LARGE = {"resnet50"}  # seconds to build: out of the fast subset
CASES = [pytest.param(n, s, k, marks=[pytest.mark.slow] if n in LARGE else [])
         for n in registry.names() for s, k in CONFIGS[n]]
_CACHE = {}


def _model(name, shape, num_classes):
    key = (name, shape)
    if key not in _CACHE:
        _CACHE[key] = registry.get(name, shape, num_classes)
    return _CACHE[key]


def _conv_layers(model):
    return [l for l in model.layers if isinstance(l, keras.layers.Conv2D | keras.layers.Conv1D)]


def test_names_covers_all_configs():
    assert registry.names() == sorted(CONFIGS)


@pytest.mark.parametrize("name,shape,num_classes", CASES)
def test_param_count(name, shape, num_classes):
    model = _model(name, shape, num_classes)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (model.count_params(), trainable) == EXPECTED_PARAMS[(name, shape)]


@pytest.mark.parametrize("name,shape,num_classes", CASES)
def test_output_is_logits_of_right_shape(name, shape, num_classes):
    model = _model(name, shape, num_classes)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    y = model(x, training=False).numpy()
    assert y.shape == (2, num_classes)
    assert np.all(np.isfinite(y))
    assert model.layers[-1].name == "fc"
    assert model.layers[-1].activation is keras.activations.linear


@pytest.mark.parametrize("name,shape,num_classes", CASES)
def test_layer_names_unique_and_deterministic(name, shape, num_classes):
    first = [l.name for l in _model(name, shape, num_classes).layers]
    second = [l.name for l in registry.get(name, shape, num_classes).layers]
    assert len(set(first)) == len(first)
    assert first == second
    assert not any("/" in n for n in first)


def test_resnet_layer_names():
    names = {l.name for l in _model("resnet20", (32, 32, 3), 10).layers}
    assert {"stem_conv", "stem_bn", "s2_b1_conv1", "s2_b1_bn1",
            "s2_b1_shortcut_conv", "s2_b1_shortcut_bn", "s3_b3_add", "gap", "fc"} <= names
    assert "s1_b1_shortcut_conv" not in names


def test_resnet18_uniform_width():
    model = registry.get("resnet18", (32, 32, 3), 10, width=32)
    convs = _conv_layers(model)
    assert len(convs) == 20  # stem + 16 block convs + 3 projections.
    assert {c.filters for c in convs} == {32}


def test_resnet18_rejects_float_width():
    with pytest.raises(ValueError, match="positive int"):
        registry.get("resnet18", (32, 32, 3), 10, width=0.5)


def test_lenet_width_multiplier():
    model = registry.get("lenet300_100", (28, 28, 1), 10, width=0.5)
    units = [model.get_layer(n).units for n in ("fc1", "fc2", "fc")]
    assert units == [150, 50, 10]


def test_float_width_scales_channels():
    model = registry.get("convnet", (40, 1), 10, width=0.5)
    assert [c.filters for c in _conv_layers(model)] == [16, 32, 32]
    assert model.get_layer("fc1").units == 64


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        registry.get("foo", (32, 32, 3), 10)
    message = str(err.value)
    assert "'foo'" in message and "\n" not in message
    assert all(n in message for n in registry.names())


@pytest.mark.parametrize("name,shape,num_classes",
                         [c for c in CASES
                          if c.values[0] in ("lenet300_100", "convnet", "resnet20")])
def test_prune_low_magnitude_wraps_conv_and_dense(name, shape, num_classes):
    model = _model(name, shape, num_classes)
    prunable = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Dense)

    def wrap(layer):
        if isinstance(layer, prunable):
            return tfmot.sparsity.keras.prune_low_magnitude(layer)
        return layer.__class__.from_config(layer.get_config())

    pruned = keras.models.clone_model(model, clone_function=wrap)
    wrapped = [l.layer.name for l in pruned.layers if isinstance(l, keras.layers.Wrapper)]
    assert wrapped == [l.name for l in model.layers if isinstance(l, prunable)]
    assert all(l.name == f"prune_low_magnitude_{l.layer.name}"
               for l in pruned.layers if isinstance(l, keras.layers.Wrapper))
    assert pruned.output_shape == (None, num_classes)
