"""LiteRT flatbuffers: weight counts, converter errors in one line, the interpreters."""
import numpy as np
import pytest

from tfprune.export import artifacts, litert
from tfprune.masking import kerases
from tfprune.masking.kerases import tf


def _dense_model(inputs):
    keras = kerases.keras("3")
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(4, name="fc")])
    kernel = np.arange(inputs * 4, dtype=np.float32).reshape(inputs, 4) % 3  # a third zeros
    model.get_layer("fc").set_weights([kernel, np.ones(4, np.float32)])
    return model, kernel



def test_litert_counts_the_weights_a_flatbuffer_stores():
    model, kernel = _dense_model(8)
    for kind in (litert.FLOAT, litert.SPARSE):
        counts = litert.weight_counts(litert.convert(model, (8,), kind))
        assert (counts["weights"], counts["nonzero_weights"]) == (32, 21), kind
        assert counts["sparse_tensors"] == (kind == litert.SPARSE)
    runner = litert.Runner(litert.convert(model, (8,)), batch_size=4, which="tensorflow")
    x = np.ones((3, 8), np.float32)
    np.testing.assert_allclose(runner(x), x @ kernel + 1, rtol=1e-6)
    with pytest.raises(ValueError, match="needs calibration data"):
        litert.convert(model, (8,), litert.INT8)


def test_a_sparse_flatbuffer_that_lost_weights_is_caught_by_its_counts():
    """TF 2.21's converter stores a dense kernel of 6 inputs in 1x4 blocks and drops the
    last 2 inputs; whatever a converter does, the counts tell a faithful flatbuffer."""
    model, kernel = _dense_model(6)
    reference = artifacts.weight_counts([kernel])
    x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    flatbuffer = litert.convert(model, (6,), litert.SPARSE)
    counts = litert.weight_counts(flatbuffer)
    artifact = {"format": "tflite_sparse", "accuracy_change_points": 0.0, **counts}
    runner = litert.Runner(flatbuffer, batch_size=3, which="tensorflow")
    if np.allclose(runner(x), x @ kernel + 1, atol=1e-5):
        assert artifacts.unfaithful(artifact, 0.9, reference) is None
    else:
        assert "nonzero weights" in artifacts.unfaithful(artifact, 0.9, reference)


def test_a_model_the_converter_cannot_take_is_one_line():
    keras = kerases.keras("2")
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: tf.numpy_function(np.sin, [x], tf.float32))(inputs)
    with pytest.raises(ValueError, match=r"^the LiteRT converter failed \(float\): .*PyFunc") as e:
        litert.convert(keras.Model(inputs, outputs), (4,))
    assert "\n" not in str(e.value)


def test_interpreters_are_named_and_a_missing_litert_is_one_line():
    cls, name = litert.interpreter_class("tensorflow")
    assert cls is tf.lite.Interpreter and name.startswith("tensorflow ")
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="ai-edge-litert is not installed"):
            litert.interpreter_class("litert")
    else:
        assert litert.interpreter_class("litert")[1].startswith("ai-edge-litert ")
        assert litert.interpreter_class("auto")[1].startswith("ai-edge-litert ")
    with pytest.raises(ValueError, match="--interpreter='onnx' is not valid"):
        litert.interpreter_class("onnx")
