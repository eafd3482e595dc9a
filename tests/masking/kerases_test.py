"""Which Keras an object comes from, each Keras' module, and tfmot imported without side effects."""
import os

import pytest

from tfprune.masking import kerases


def test_each_object_knows_its_keras():
    for flavour in kerases.FLAVOURS:
        keras = kerases.keras(flavour)
        layer = keras.layers.Dense(2)
        assert kerases.of(layer) == flavour
        assert kerases.of(keras.optimizers.SGD()) == flavour
    with pytest.raises(TypeError, match="expected a Keras object"):
        kerases.of(object())
    with pytest.raises(ValueError, match="unknown Keras '4'; valid: 2, 3"):
        kerases.keras("4")


def test_importing_tfmot_leaves_the_legacy_keras_switch_as_it_was(monkeypatch):
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    assert kerases.tfmot().sparsity is not None
    assert "TF_USE_LEGACY_KERAS" not in os.environ
