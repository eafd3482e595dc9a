"""SNIP and SynFlow masks from the rewind point's scores, through the engine: real tiny runs
on LeNet-300-100."""
import numpy as np
import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import loop, scoring
from tfprune.engine.config import Config

from conftest import tiny_config


@pytest.mark.slow
@pytest.mark.parametrize("pruning", ["snip", "synflow"])
def test_saliency_masks_come_from_the_rewind_points_scores(pruning, tmp_path):
    c = Config(**tiny_config(method="imp", rounds=2, epochs=2, pruning=pruning,
                             workdir=str(tmp_path)))
    results = loop.run(c)
    run = RunDir(tmp_path)
    if pruning == "snip":  # saved, and every survivor scores at least every pruned weight
        saved = np.load(run.saliency_path)
        scores = {k: saved[k] for k in saved.files}
        for r in (1, 2):
            mask = run.mask(r)
            kept = np.concatenate([scores[k][mask[k]] for k in mask])
            gone = np.concatenate([scores[k][~mask[k]] for k in mask])
            assert kept.min() >= gone.max()
    # a new scorer, on a model restored to the rewind point, gives each round's mask again
    scorer = scoring.RewindScorer(c, run)
    trained = run.kernels(1)  # only names the weights: the masks ignore the trained values
    assert scoring.round_mask(c, scorer, trained, run.mask(1), 2) == run.mask(2)
    for r in (1, 2):
        assert run.mask(r).is_subset_of(run.mask(r - 1))
        assert run.mask(r).density == pytest.approx(0.8 ** r, abs=1e-3)
    assert [m["epochs_total"] for m in results] == [2, 2, 2]  # masks need no training


def test_synflow_refuses_a_model_it_cannot_score_before_writing_anything(tmp_path):
    def softmax_model(input_shape, num_classes, width=None, *, keras):
        inputs = keras.Input(input_shape, name="input")
        x = keras.layers.Flatten(name="flatten")(inputs)
        x = keras.layers.Dense(8, name="fc1", activation="relu")(x)
        return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax",
                                                      name="out")(x))

    workdir = tmp_path / "run"
    with pytest.raises(ValueError, match="^--pruning=synflow cannot score .*: its synaptic flow "
                                         "is zero"):
        loop.run(tiny_config(model="soft", method="imp", pruning="synflow",
                             workdir=str(workdir)), model_fn=softmax_model)
    assert not workdir.exists() or not any(workdir.iterdir())
