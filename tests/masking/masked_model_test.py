"""Tests of fixed masks in tfmot wrappers and of the IMP/LRR/mask callbacks."""
import numpy as np
import pytest

import tfprune
from tfprune.masking import masked_model
from tfprune.masking.kerases import keras as _keras
from tfprune.training import callbacks as cb

keras = _keras("2")
from tfprune.core.mask import Mask

from tiny import compiled, data, tiny_model


def test_wrap_names_every_conv_and_dense_kernel():
    model = masked_model.wrap(tiny_model())
    assert list(masked_model.get_kernels(model)) == ["conv/kernel", "fc/kernel"]
    assert masked_model.get_masks(model).density == 1.0


def test_wrap_can_ignore_layers_and_rejects_unknown_ones():
    model = masked_model.wrap(tiny_model(), ignore=["fc"])
    assert list(masked_model.get_kernels(model)) == ["conv/kernel"]
    with pytest.raises(ValueError, match="not in the model"):
        masked_model.wrap(tiny_model(), ignore=["nope"])


def test_pruned_weights_exactly_zero_after_training_with_momentum_and_weight_decay():
    model = compiled(weight_decay=1e-2)
    mask = tfprune.prune(model, fraction=0.5)
    before = masked_model.get_kernels(model)
    model.fit(data(), epochs=3, verbose=0, callbacks=[cb.KeepMasks()])
    after = masked_model.get_kernels(model)
    assert masked_model.get_masks(model) == mask
    for key, m in mask.items():
        assert np.all(after[key][~m] == 0.0), key
        assert not np.allclose(after[key][m], before[key][m]), "kept weights should train"


def test_prune_removes_a_fifth_of_the_survivors_each_round_nested():
    model = compiled()
    total = masked_model.get_masks(model).num_weights
    previous = masked_model.get_masks(model)
    for r in range(1, 6):
        mask = tfprune.prune(model, 0.2)
        assert mask.is_subset_of(previous)
        assert abs(mask.num_kept - total * 0.8 ** r) <= 2.5
        previous = mask


def test_strip_exports_plain_layers_with_the_same_predictions():
    model = compiled()
    tfprune.prune(model, fraction=0.6)
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.KeepMasks()])
    x = next(iter(data()))[0]
    expected = model(x, training=False).numpy()
    plain = tfprune.strip(model)
    assert not any("prune_low_magnitude" in layer.name for layer in plain.layers)
    np.testing.assert_allclose(plain(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-6)
    kernel = plain.get_layer("fc").kernel.numpy()
    assert np.mean(kernel == 0) == pytest.approx(0.6, abs=0.05)


def test_set_masks_rejects_a_mask_of_another_model():
    model = compiled()
    with pytest.raises(ValueError, match="incompatible"):
        masked_model.set_masks(model, Mask({"other/kernel": np.ones(3)}))
