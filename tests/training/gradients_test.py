"""Gradients of the prunable kernels against closed forms, on tf_keras and Keras 3 on TensorFlow
(Keras 3 on JAX: `check` runs in tests/scenarios/jax_flags_test.py's JAX process): the loss gradient of a linear softmax classifier,
SynFlow on a two-layer linear network, the model left as it was, and a model SynFlow cannot
score."""
import numpy as np
import pytest

from tfprune.masking import kerases, masked_model
from tfprune.pruning import saliency
from tfprune.training import gradients


def _linear(keras, hidden=None, softmax=False):
    inputs = keras.Input((4,), name="input")
    x = keras.layers.Dense(hidden, use_bias=False, name="fc1")(inputs) if hidden else inputs
    x = keras.layers.Dense(3, use_bias=False, name="out",
                           activation="softmax" if softmax else None)(x)
    if not softmax:
        x = keras.layers.BatchNormalization(name="bn")(x)
    model = masked_model.wrap(keras.Model(inputs, x))
    model.compile(keras.optimizers.SGD(0.1),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax))
    return model


def check(flavour):
    """The closed-form checks on one Keras; returns what was compared (for the JAX process)."""
    keras = kerases.keras(flavour)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    # in training mode, and yet the BatchNorm's statistics are as they were
    model = _linear(keras)
    before = [np.asarray(v.numpy()).copy() for v in model.variables]
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 3, 16)
    got = gradients.loss_gradients(model, x, y)["out/kernel"]
    after = [np.asarray(v.numpy()) for v in model.variables]
    unchanged = all(np.array_equal(a, b) for a, b in zip(before, after))

    # the loss of a linear classifier: d/dW mean CE(softmax(x W), y) = x' (p - onehot(y)) / n
    plain = masked_model.wrap(keras.Model(model.inputs, model.get_layer("out").output)
                              if flavour == "3" else _no_bn(keras, model))
    plain.compile(keras.optimizers.SGD(0.1),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    w = masked_model.get_kernels(plain)["out/kernel"]
    logits = x @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = x.T @ (p - np.eye(3)[y]) / len(y)
    loss_error = float(np.abs(gradients.loss_gradients(plain, x, y)["out/kernel"]
                              - expected).max())

    # SynFlow on x -> W2 W1 x (kernels K1 (4, h), K2 (h, 3)), ones in:
    # dR/d|K1[j, i]| = sum_k |K2[i, k]|, dR/d|K2[i, k]| = sum_j |K1[j, i]|
    two = masked_model.wrap(_two_layer(keras))
    k = masked_model.get_kernels(two)
    flow, grads = gradients.synflow_gradients(two)
    a1, a2 = np.abs(k["fc1/kernel"]), np.abs(k["out/kernel"])
    synflow_error = max(
        float(np.abs(grads["fc1/kernel"] - np.broadcast_to(a2.sum(1), a1.shape)).max()),
        float(np.abs(grads["out/kernel"] - np.broadcast_to(a1.sum(0)[:, None], a2.shape)).max()),
        abs(flow - float(np.ones(4) @ a1 @ a2 @ np.ones(3))) / flow)
    scores = saliency.synflow_scores(flow, grads, k)
    conserved = [float(s.sum() / flow) for s in scores.values()]  # each layer sums to R

    try:
        soft = _linear(keras, hidden=5, softmax=True)
        saliency.synflow_scores(*gradients.synflow_gradients(soft), masked_model.get_kernels(soft))
        refused = ""
    except ValueError as e:
        refused = str(e)
    return dict(grad_shape=list(got.shape), unchanged=unchanged, loss_error=loss_error,
                synflow_error=synflow_error, conserved=conserved, refused=refused)


def _no_bn(keras, model):
    inputs = keras.Input((4,), name="input")
    layer = keras.layers.Dense(3, use_bias=False, name="out")
    out = layer(inputs)
    layer.set_weights([masked_model.get_kernels(model)["out/kernel"]])
    return keras.Model(inputs, out)


def _two_layer(keras):
    inputs = keras.Input((4,), name="input")
    x = keras.layers.Dense(5, use_bias=False, name="fc1")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, use_bias=False, name="out")(x))


def assert_checks(found):
    """The checks of `check`'s result (the JAX one runs in tests/scenarios/jax_flags_test.py)."""
    assert found["grad_shape"] == [4, 3] and found["unchanged"]  # BN statistics untouched
    assert found["loss_error"] < 1e-5
    assert found["synflow_error"] < 1e-5
    assert found["conserved"] == pytest.approx([1.0, 1.0], rel=1e-5)
    assert found["refused"].startswith("--pruning=synflow cannot score ")
    assert "its synaptic flow is zero" in found["refused"]


@pytest.mark.parametrize("flavour", ["2", "3"])
def test_gradients_match_closed_forms(flavour):
    assert_checks(check(flavour))


def test_pytorch_is_refused_in_one_line(monkeypatch):
    model = _two_layer(kerases.keras("3"))
    model = masked_model.wrap(model)
    monkeypatch.setattr(gradients, "_backend", lambda m: "torch")
    with pytest.raises(ValueError, match="^gradients of the kernels .* are computed on the "
                                         "tensorflow or jax backend, not torch$"):
        gradients.synflow_gradients(model)
