"""A state folder restores weights and optimizer exactly, keeps what it is told to keep, and
refuses another model's state in one line."""
import numpy as np
import pytest

from tfprune.masking import kerases
from tfprune.training import state

from tiny import compiled, data, values


@pytest.mark.slow
def test_restore_brings_back_weights_and_optimizer_except_what_is_kept(tmp_path):
    model = compiled()
    model.fit(data(), epochs=1, verbose=0)
    state.save_state(model, str(tmp_path / "s"), extra={"note.json": {"epoch": 1}})
    saved = values(model.variables) + values(model.optimizer.variables)
    model.fit(data(), epochs=1, verbose=0)
    bias = model.get_layer("mask_wrapper_fc").layer.bias
    moved_bias = bias.numpy().copy()
    state.restore_state(model, str(tmp_path / "s"), keep=[bias])
    now = values(model.variables) + values(model.optimizer.variables)
    assert np.array_equal(bias.numpy(), moved_bias)
    differing = [i for i, (a, b) in enumerate(zip(now, saved)) if not np.array_equal(a, b)]
    assert len(differing) == 1  # the kept bias only
    assert (tmp_path / "s" / "note.json").read_text().strip().startswith("{")


def test_another_models_state_is_refused_in_one_line(tmp_path):
    keras = kerases.keras("3")
    small = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    large = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    for model in (small, large):
        model.compile(keras.optimizers.SGD(), "mse")
    state.save_state(small, str(tmp_path / "small"))
    with pytest.raises(ValueError, match="cannot restore .* not match"):
        state.restore_state(large, str(tmp_path / "small"))
