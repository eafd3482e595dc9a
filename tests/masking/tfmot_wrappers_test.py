"""tf_keras masks in tfmot's wrappers: a copy sharing the weights, re-zeroing that follows the
masks it is given, and a strip that leaves the wrapped model as it was."""
import numpy as np
import pytest
from tiny import tiny_model

from tfprune.masking import masked_model, prunable, tfmot_wrappers
from tfprune.masking.kerases import keras as _keras

keras = _keras("2")


def test_wrap_copies_the_model_sharing_its_weights():
    model = tiny_model()
    wrapped = tfmot_wrappers.wrap(model, prunable.walk(model))
    assert wrapped is not model
    assert [w.name for w in tfmot_wrappers.wrappers(wrapped)] == ["mask_wrapper_conv",
                                                                 "mask_wrapper_fc"]
    kernel = model.get_layer("fc").kernel
    assert any(v is kernel for v in wrapped.weights)


def test_apply_masks_follows_the_pairs_it_is_given():
    wrapped = masked_model.wrap(tiny_model())
    pairs = list(masked_model.pruning_vars(wrapped).values())
    (conv, conv_mask), (fc, fc_mask) = pairs
    tfmot_wrappers.apply_masks(wrapped, pairs)
    fc_mask.assign(np.zeros(fc_mask.shape, np.float32))
    tfmot_wrappers.apply_masks(wrapped, pairs[:1])  # other pairs: fc is left alone
    assert np.count_nonzero(fc.numpy()) == fc.numpy().size
    tfmot_wrappers.apply_masks(wrapped, pairs[1:])
    assert not np.count_nonzero(fc.numpy()) and np.count_nonzero(conv.numpy())


def test_strip_returns_plain_layers_and_leaves_the_wrapped_model_masked():
    wrapped = masked_model.wrap(tiny_model())
    stripped = tfmot_wrappers.strip(wrapped)
    assert not tfmot_wrappers.wrappers(stripped) and len(tfmot_wrappers.wrappers(wrapped)) == 2


def test_a_subclassed_model_is_refused_with_the_way_out():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.fc = keras.layers.Dense(2)

        def call(self, x):
            return self.fc(x)
    net = Net()
    net(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="subclassed .* build it with Keras 3"):
        tfmot_wrappers.wrap(net, prunable.walk(net))
