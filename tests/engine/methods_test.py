"""IMP, LRR and FT: three ways to start a pruned round, each checked on a trained tiny model."""
import numpy as np
import pytest

from tfprune.engine import methods
from tfprune.masking import masked_model
from tfprune.training import starts

from tiny import compiled, data, values


def test_the_registry_and_its_rules():
    assert methods.names() == ["ft", "gmp", "imp", "lrr", "rigl", "set"]
    assert methods.get("imp").initial_epoch(3) == 3 and methods.get("lrr").initial_epoch(3) == 0
    assert [m for m in methods.names() if methods.get(m).one_run] == ["gmp", "rigl", "set"]
    with pytest.raises(ValueError, match="unknown method 'x'; valid: ft, gmp, imp, lrr, rigl"):
        methods.get("x")
    with pytest.raises(ValueError, match="weights='rewind' goes with lr_start='rewind'"):
        methods.Method("bad", weights="rewind", lr_start="restart")
    with pytest.raises(ValueError, match="a one-run method goes on training"):
        methods.Method("bad", weights="trained", lr_start="restart", updates="set")
    with pytest.raises(ValueError, match="updates must be one of"):
        methods.Method("bad", weights="trained", lr_start="continue", updates="x")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["imp", "lrr", "ft"])
def test_each_method_starts_a_pruned_round_as_it_says(name, tmp_path):
    model = compiled()
    rewind = starts.save_rewind_point(model, str(tmp_path / "rewind"), 0)
    model.fit(data(), epochs=2, verbose=0)
    masked_model.prune(model, 0.5)
    trained, optimizer = masked_model.get_kernels(model), values(model.optimizer.variables)
    methods.get(name).start(model, str(tmp_path / "rewind"))
    kernels, mask = masked_model.get_kernels(model), masked_model.get_masks(model)
    steps = int(model.optimizer.iterations.numpy())
    expected = {"imp": {k: rewind[k] * mask[k] for k in rewind}, "lrr": trained, "ft": trained}
    assert all(np.array_equal(kernels[k], expected[name][k]) for k in kernels)
    assert steps == {"imp": 0, "lrr": 0, "ft": 8}[name]  # the rewind point was at step 0
    if name == "ft":
        assert all(np.array_equal(a, b) for a, b in zip(values(model.optimizer.variables),
                                                        optimizer))
