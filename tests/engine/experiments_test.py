"""Each of the paper's experiments (variants) holds its defining invariant."""
import os

import numpy as np
import pytest

import tfprune
from tfprune.core import signs
from tfprune.core.rundir import RunDir
from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.masking import channel_graph, masked_model
from tfprune.pruning import channels, structures
from tfprune.training import callbacks as cb
from tfprune.training import starts

from conftest import tiny_config
from tiny import Probe, compiled, data, values


def trained_with_rewind_point(tmp_path, fraction=0.5):
    """A tiny model trained 3 epochs (rewind point after epoch 1), then pruned."""
    model = compiled()
    rewind = str(tmp_path / "rewind")
    model.fit(data(), epochs=3, verbose=0, callbacks=[cb.SaveRewindPoint(rewind, 1),
                                                      cb.KeepMasks()])
    trained = masked_model.get_kernels(model)
    mask = tfprune.prune(model, fraction)
    return model, rewind, trained, mask


def start_of_round(model, *callbacks):
    """The kernels right after the given start-of-round callbacks ran."""
    probe = Probe(masked_model.get_kernels)
    model.fit(data(), epochs=1, verbose=0, callbacks=[*callbacks, probe, cb.KeepMasks()])
    return probe.value


def test_imp_with_source_signs_has_rewind_magnitudes_and_source_signs(tmp_path):
    model, rewind, _, mask = trained_with_rewind_point(tmp_path)
    at_rewind = RunDir(tmp_path).rewind_kernels()
    rng = np.random.default_rng(1)
    source = {k: rng.normal(size=v.shape) for k, v in at_rewind.items()}
    kernels = start_of_round(model, cb.RewindWeights(rewind), cb.SetSigns(source))
    for k, m in mask.items():
        np.testing.assert_allclose(np.abs(kernels[k][m]), np.abs(at_rewind[k][m]), rtol=1e-6)
        assert np.all(np.sign(kernels[k][m]) == np.sign(source[k][m]))
        assert np.all(kernels[k][~m] == 0)


def test_imp_with_own_signs_and_shuffled_magnitudes(tmp_path):
    model, rewind, trained, mask = trained_with_rewind_point(tmp_path)
    at_rewind = RunDir(tmp_path).rewind_kernels()
    kernels = start_of_round(model, cb.RewindWeights(rewind),
                             cb.SetSigns(trained, np.random.default_rng(0)))
    for k, m in mask.items():
        assert np.all(np.sign(kernels[k][m]) == np.sign(trained[k][m]))
        np.testing.assert_allclose(np.sort(np.abs(kernels[k][m])), np.sort(np.abs(at_rewind[k][m])),
                                   rtol=1e-6)
        assert not np.allclose(np.abs(kernels[k][m]), np.abs(at_rewind[k][m]))  # shuffled


def test_lrr_with_initial_signs_keeps_trained_magnitudes(tmp_path):
    model, _, trained, mask = trained_with_rewind_point(tmp_path)
    at_rewind = RunDir(tmp_path).rewind_kernels()
    kernels = start_of_round(model, cb.RestartSchedule(), cb.SetSigns(at_rewind))
    for k, m in mask.items():
        np.testing.assert_allclose(np.abs(kernels[k][m]), np.abs(trained[k][m]), rtol=1e-6)
        assert np.all(np.sign(kernels[k][m]) == np.sign(at_rewind[k][m]))


def test_lrr_with_bn_rewind_resets_only_batchnorm_and_the_optimizer(tmp_path):
    model = compiled()
    rewind = str(tmp_path / "rewind")
    seen = {}

    class Record(tfprune.training.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                seen["bn"] = values(starts.bn_variables(self.model))

    model.fit(data(), epochs=3, verbose=0, callbacks=[cb.SaveRewindPoint(rewind, 1), Record(),
                                                      cb.KeepMasks()])
    tfprune.prune(model, 0.5)
    kernels_before = masked_model.get_kernels(model)
    probe = Probe(lambda m: (values(starts.bn_variables(m)), masked_model.get_kernels(m),
                             int(m.optimizer.iterations)))
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.RestartSchedule(),
                                                      cb.RewindBatchNorm(rewind), probe])
    bn, kernels, step = probe.value
    for now, then in zip(bn, seen["bn"]):
        np.testing.assert_array_equal(now, then)
    for k in kernels:
        np.testing.assert_array_equal(kernels[k], kernels_before[k])
    assert step == 0


def test_perturbation_flips_about_p_of_the_survivors():
    rng = np.random.default_rng(0)
    weights = {"a": rng.normal(size=(200, 50)), "b": rng.normal(size=5000)}
    mask = {"a": rng.random((200, 50)) < 0.5, "b": np.ones(5000, bool)}
    out, flipped = signs.perturb(weights, mask, 0.3, np.random.default_rng(1))
    kept = sum(m.sum() for m in mask.values())
    assert abs(flipped / kept - 0.3) < 4 * np.sqrt(0.3 * 0.7 / kept)
    changed = sum(np.count_nonzero(np.sign(out[k]) != np.sign(weights[k])) for k in weights)
    assert changed == flipped
    assert all(np.array_equal(out[k][~mask[k]], weights[k][~mask[k]]) for k in weights)


def test_perturb_signs_callback_flips_every_k_epochs_but_not_after_the_last():
    model = compiled()
    tfprune.prune(model, 0.5)
    perturb = cb.PerturbSigns(0.3, every=2, seed=(0,))
    model.fit(data(), epochs=6, verbose=0, callbacks=[perturb, cb.KeepMasks()])
    assert [epoch for epoch, _, _ in perturb.flipped] == [1, 3]  # not epoch 5, the last
    for _, count, kept in perturb.flipped:
        assert 0.1 < count / kept < 0.5


def test_fixed_sign_training_never_changes_a_sign():
    model = compiled()
    tfprune.prune(model, 0.3)
    start = masked_model.get_kernels(model)
    model.fit(data(), epochs=3, verbose=0, callbacks=[cb.FixSigns(), cb.KeepMasks()])
    end = masked_model.get_kernels(model)
    for k in start:
        assert not np.any(np.sign(end[k]) * np.sign(start[k]) < 0)
        assert not np.allclose(end[k], start[k])  # it did train


def config(workdir, method, **overrides):
    """A 2-round run of 2 epochs (warm-up and rewind point: epoch 1)."""
    return Config(**(tiny_config(method=method, rounds=2, epochs=2, warmup_epochs=1,
                                 rewind_epoch=1, workdir=str(workdir)) | overrides))


@pytest.fixture(scope="module")
def lrr_source(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("variants") / "lrr"
    loop.run(config(workdir, "lrr"))
    return workdir


@pytest.mark.slow
def test_imp_with_lrr_masks_uses_the_source_masks_every_round(lrr_source, tmp_path):
    loop.run(config(tmp_path / "imp", "imp", mask_from=str(lrr_source)))
    ours, theirs = RunDir(tmp_path / "imp"), RunDir(lrr_source)
    for r in range(3):
        assert ours.mask(r) == theirs.mask(r)


@pytest.mark.slow
def test_imp_with_lrr_signs_starts_each_round_with_the_sources_signs(lrr_source, tmp_path):
    """IMP with --signs=source --signs_from=<LRR run> --shuffle_magnitudes: pruned round r
    starts from the rewind point's surviving magnitudes, shuffled within each layer, with the
    signs the LRR run's weights had at the end of its round r - 1."""
    start = Probe(masked_model.get_kernels)  # runs after the round's restart callbacks
    results = loop.run(config(tmp_path / "imp", "imp", signs="source",
                                    signs_from=str(lrr_source), shuffle_magnitudes=True),
                             callbacks=[start])
    assert [m["round"] for m in results] == [0, 1, 2] and len(start.values) == 3
    ours, source = RunDir(tmp_path / "imp"), RunDir(lrr_source)
    rewind = ours.rewind_kernels()
    for r in (1, 2):
        kernels, mask, theirs = start.values[r], ours.mask(r), source.kernels(r - 1)
        own_signs_differ = False
        for key, m in mask.items():
            expected = np.where(theirs[key][m] < 0, -1.0, 1.0)  # a pruned (zero) weight: +
            np.testing.assert_array_equal(np.sign(kernels[key][m]), expected,
                                          err_msg=f"round {r} {key}")
            np.testing.assert_allclose(np.sort(np.abs(kernels[key][m])),
                                       np.sort(np.abs(rewind[key][m])), rtol=1e-6)
            assert not np.allclose(np.abs(kernels[key][m]), np.abs(rewind[key][m]))  # shuffled
            assert not np.any(kernels[key][~m])
            own_signs_differ |= bool(np.any(np.sign(rewind[key][m]) != expected))
        assert own_signs_differ, r  # else the rewind point's own signs would pass as well


@pytest.mark.slow  # the source is a trained run
@pytest.mark.parametrize("overrides, message", [
    (dict(model="convnet"), "was run with --model='lenet300_100', this run has --model='convnet'"),
    (dict(rounds=3), "has 2 completed pruned rounds; this run needs 3"),
    (dict(ignore_layers=("fc",)), "was run with --ignore_layers=[]"),
    (dict(structure="block:1x4"), "was run with --structure='unstructured', this run has "
                                  "--structure='block:1x4'"),
])
def test_a_source_that_does_not_fit_is_refused_before_training(lrr_source, tmp_path, overrides,
                                                               message):
    workdir = tmp_path / "imp"
    with pytest.raises(ValueError, match="--mask_from") as error:
        loop.run(config(workdir, "imp", mask_from=str(lrr_source), **overrides))
    assert message in str(error.value)
    assert not workdir.exists() or not os.listdir(workdir)


@pytest.mark.slow
def test_a_source_with_other_layer_names_is_refused(lrr_source, tmp_path):
    import shutil
    source = tmp_path / "renamed"
    shutil.copytree(lrr_source, source)
    mask = RunDir(source).mask(1)
    tfprune.Mask({k.replace("fc1", "hidden"): v for k, v in mask.items()}).save(
        source / "round_01" / "mask.npz")
    with pytest.raises(ValueError, match="incompatible"):
        loop.run(config(tmp_path / "imp", "imp", mask_from=str(source)))


@pytest.mark.parametrize("overrides, message", [
    (dict(signs="source"), "--signs=source and --signs_from go together"),
    (dict(signs_from="x"), "--signs=source and --signs_from go together"),
    (dict(shuffle_magnitudes=True), "--shuffle_magnitudes needs"),
    (dict(method="imp", rewind_bn=True), "--rewind_bn is for lrr and ft"),
    (dict(perturb_signs=1.5), "--perturb_signs must be in [0, 1]"),
    (dict(perturb_every=0), "--perturb_every must be >= 1"),
])
def test_variant_flags_are_validated(overrides, message):
    with pytest.raises(ValueError) as error:
        Config(**overrides)
    assert message in str(error.value)


def test_bn_rewind_keeps_the_schedule_position_fine_tuning_chose(tmp_path):
    model = compiled()
    rewind = str(tmp_path / "rewind")
    model.fit(data(), epochs=2, verbose=0, callbacks=[cb.SaveRewindPoint(rewind, 1), cb.KeepMasks()])
    step = int(model.optimizer.iterations)
    probe = Probe(lambda m: int(m.optimizer.iterations))
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.RewindBatchNorm(rewind), probe])
    assert probe.value == step  # ft continues; LRR's RestartSchedule runs first and zeroes it


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["block:1x4", "nm:2:4", "channel"])
def test_a_structured_run_keeps_every_rounds_mask_structured_with_exact_zeros(spec, tmp_path):
    config = Config(**tiny_config(rounds=2, structure=spec, workdir=str(tmp_path / "run")))
    results = loop.run(config)
    run_dir, structure = RunDir(config.workdir), structures.parse(spec)
    cmap = channel_graph.build(build.build_model(config, build.load_data(config, 0)))
    for r in (1, 2):
        mask, kernels = run_dir.mask(r), run_dir.kernels(r)
        if structure.kind == "channel":  # whole units: a unit's column and the next rows
            assert channels.is_structured(cmap, mask)
        else:
            assert all(structures.is_structured(mask[k], structure) for k in mask)
        assert all(not kernels[k][mask[k] == 0].any() for k in mask)
        assert mask.is_subset_of(run_dir.mask(r - 1))
    if structure.kind == "block":  # every LeNet kernel divides into 1x4 blocks
        assert [round(m["density"], 3) for m in results] == [1.0, 0.8, 0.64]
    elif structure.kind == "channel":  # 400 units of 110-884 weights each (of 266,200)
        assert [round(m["density"], 2) for m in results] == [1.0, 0.8, 0.64]
    else:
        assert results[1]["density"] <= 0.5 and results[2]["density"] < results[1]["density"]


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["2", "3"])
def test_reinit_trains_each_round_from_new_random_weights_under_its_mask(tmp_path, flavour):
    starting = []

    class AtStart(cb.Callback):
        def on_train_begin(self, logs=None):
            starting.append((masked_model.get_kernels(self.model),
                             int(np.asarray(self.model.optimizer.iterations.numpy()))))

    config = Config(**tiny_config(method="imp", rounds=2, epochs=2, warmup_epochs=1,
                                  rewind_epoch=1, reinit=True, keras=flavour,
                                  workdir=str(tmp_path)))
    loop.run(config, callbacks=[AtStart()])
    run = RunDir(tmp_path)
    rewind = run.rewind_kernels()
    for r in (1, 2):
        mask, (kernels, step) = run.mask(r), starting[r]
        assert mask.is_subset_of(run.mask(r - 1))  # pruned from the trained weights, nested
        assert mask.density == pytest.approx(0.8 ** r, abs=1e-3)
        fresh = masked_model.get_kernels(build.fresh_model(config, build.load_data(config, r), r))
        assert step == 32  # IMP: at the rewind point's step (epoch 1 of 2, 32 steps each)
        for k, m in mask.items():  # a new draw, masked: neither the rewind point nor round 1's
            np.testing.assert_array_equal(kernels[k], fresh[k] * m)
            assert not np.array_equal(kernels[k][m], rewind[k][m])
        trained = run.kernels(r)
        assert all(not trained[k][~m].any() for k, m in mask.items())
    assert not np.array_equal(starting[1][0]["fc1/kernel"][run.mask(2)["fc1/kernel"]],
                              starting[2][0]["fc1/kernel"][run.mask(2)["fc1/kernel"]])


def test_reinit_with_fine_tuning_is_refused_in_one_line():
    with pytest.raises(ValueError, match="^--reinit trains a round from new random weights, "
                                         "which --method=ft's small fixed rate cannot"):
        Config(method="ft", reinit=True)
