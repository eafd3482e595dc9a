"""The single hidden neuron: exact GD, the conserved a^2 - |w|^2, and the paper's IMP/LRR rules."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfprune.theory import single_neuron as sn

from conftest import ROOT

LAUNCHER = os.path.join(ROOT, "launch", "single_neuron.py")
PNG = b"\x89PNG\r\n\x1a\n"
SEEDS = 200
# Steps per case, fewer than the default 60,000: the rules checked below already hold there
# (measured, as they do with 1,000 seeds x 60,000 steps); uniform init's rates still rise after.
STEPS = {(1, "balanced"): 10000, (1, "uniform"): 20000, (2, "balanced"): 20000,
         (10, "balanced"): 10000, (2, "uniform"): 10000, (10, "uniform"): 10000}


@pytest.fixture(scope="module")
def launches(tmp_path_factory):
    """Starts the launcher with good flags and with a bad one, side by side (each spends
    seconds importing TensorFlow). The last two tests read the outcome."""
    folder = tmp_path_factory.mktemp("launch")
    commands = [["--dim=1,2", "--seeds=5", "--steps=200", f"--out={folder / 'sn.json'}",
                 f"--plot_dir={folder / 'plots'}"],
                ["--dim=2,0", f"--out={folder / 'bad.json'}"]]
    processes = [subprocess.Popen([sys.executable, LAUNCHER, *args], cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for args in commands]
    yield folder, *processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def runs():
    return {(dim, init): sn.run(dim, SEEDS, init=init, steps=steps)
            for (dim, init), steps in STEPS.items()}


def column(results, key):
    return np.array(results[key])


def naive_gd(a, w, x, y, lr, steps):
    """Gradient descent evaluating every sample at every step: the reference for `train`."""
    a, w = a.copy(), w.copy()
    for _ in range(steps):
        z = np.einsum("snd,sd->sn", x, w)
        residual = a[:, None] * np.maximum(z, 0) - y
        grad_a = np.mean(residual * np.maximum(z, 0), axis=1)
        grad_w = a[:, None] * np.einsum("sn,snd->sd", residual * (z > 0), x) / x.shape[1]
        a, w = a - lr * grad_a, w - lr * grad_w
    return a, w


@pytest.mark.parametrize("dim, n", [(1, 100), (2, 100), (10, 100), (3, 5)])  # n=5: all near
@pytest.mark.parametrize("init", sn.INITS)
def test_train_is_exactly_gradient_descent(dim, n, init):
    x, y, a0, w0 = sn.draw(dim, 30, seed=1, init=init, n=n)
    expected = naive_gd(a0, w0, x, y, lr=0.1, steps=300)  # coarse steps: many pattern changes
    a, w, _ = sn.train(a0, w0, x, y, lr=0.1, steps=300)
    np.testing.assert_allclose(a, expected[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(w, expected[1], rtol=0, atol=1e-10)


@pytest.mark.parametrize("dim", [1, 3])
def test_w_at_zero_activates_nothing_and_stays(dim):
    x, y, _, _ = sn.draw(dim, 4, seed=1)
    a, w, _ = sn.train(np.ones(4), np.zeros((4, dim)), x, y, steps=10)
    assert np.all(a == 1) and np.all(w == 0)


def test_relative_loss_is_closed_form_on_x1():
    x, y, _, _ = sn.draw(1, 50, seed=2)
    rng = np.random.default_rng(0)
    a, w = rng.normal(size=50), rng.normal(size=(50, 1))
    rel = sn.relative_loss(a, w, x, y)
    positive = w[:, 0] > 0
    np.testing.assert_allclose(rel[positive], (a * w[:, 0] - 1)[positive] ** 2, rtol=1e-12)
    assert np.all(rel[~positive] >= 1)


def test_balanced_init_conserves_a2_minus_w2_up_to_first_order_in_lr():
    x, y, a0, w0 = sn.draw(10, 20, seed=3)
    assert np.allclose(a0 ** 2, np.sum(w0 ** 2, axis=1))
    drifts = []
    for lr, steps in ((0.01, 1000), (0.005, 2000)):  # the same time of the flow, 10
        a, w, changed = sn.train(a0, w0, x, y, lr=lr, steps=steps)
        assert not changed.any()
        drifts.append(np.abs(a ** 2 - np.sum(w ** 2, axis=1)))
    # GD changes a^2 - |w|^2 by lr^2 (grad_a^2 - |grad_w|^2) a step: O(lr) over a fixed time
    assert drifts[0].max() < 0.01 * np.max(a0 ** 2)
    ratio = drifts[0] / drifts[1]
    assert np.all((1.9 < ratio) & (ratio < 2.1)), ratio


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_balanced_init_a_never_changes_sign(runs):
    for dim in (1, 2, 10):
        r = runs[dim, "balanced"]
        assert not any(r["dense_changed_sign"])  # 7 in 1,000 seeds at D = 10 after 60,000 steps
    assert max(map(abs, runs[1, "balanced"]["dense_drift"])) == 0  # D = 1: a = +-w exactly


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
@pytest.mark.parametrize("dim", [1, 2, 10])
def test_balanced_imp_succeeds_exactly_when_a0_and_w1_positive(runs, dim):
    r = runs[dim, "balanced"]
    predicted = (column(r, "a0") > 0) & (column(r, "w1_0") > 0)
    np.testing.assert_array_equal(column(r, "imp_success"), predicted)
    assert r["imp_matches_theory"] == 1.0 and r["imp"]["success_rate"] == r["imp"]["theory_rate"]


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_d1_is_one_training_reported_as_both_with_the_mask_always_correct(runs):
    r = runs[1, "balanced"]
    assert r["imp_success"] == r["lrr_success"] and all(r["mask_correct"])
    assert r["lrr_matches_theory"] == 1.0  # for D = 1 LRR's prediction is IMP's


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
@pytest.mark.parametrize("dim, agreement", [(2, 0.95), (10, 0.98)])
def test_balanced_lrr_succeeds_when_a0_positive(runs, dim, agreement):
    # measured with 1,000 seeds x 60,000 steps: 0.984 at D = 2 (the dense neuron dies for some
    # w0 near -e_1), 0.996 at D = 10 (a crossed zero by GD's drift of a^2 - |w|^2)
    r = runs[dim, "balanced"]
    assert r["lrr_matches_theory"] >= agreement
    assert r["lrr"]["success_rate"] > r["imp"]["success_rate"]


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_balanced_rates_are_a_quarter_and_a_half(runs):
    r = runs[10, "balanced"]
    for name, p in (("imp", 0.25), ("lrr", 0.5)):
        assert abs(r[name]["success_rate"] - p) < 3 * np.sqrt(p * (1 - p) / SEEDS)


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
@pytest.mark.parametrize("dim", [1, 2, 10])
def test_uniform_imp_never_succeeds_with_w1_negative_and_follows_the_1d_rule(runs, dim):
    r = runs[dim, "uniform"]
    assert not np.any(column(r, "imp_success") & (column(r, "w1_0") < 0))
    assert r["imp_matches_1d_rule"] == 1.0  # success iff mask correct, w1_0 > 0, a0 > -w1_0


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_uniform_d1_succeeds_exactly_when_w0_positive(runs):
    r = runs[1, "uniform"]  # |a0| < |w0|: a can cross zero, w cannot
    np.testing.assert_array_equal(column(r, "imp_success"), column(r, "w1_0") > 0)


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_uniform_init_raises_both_rates(runs):
    balanced, uniform = runs[2, "balanced"], runs[2, "uniform"]
    for name in ("imp", "lrr"):
        assert uniform[name]["success_rate"] > balanced[name]["success_rate"]


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_results_are_json_with_every_key(runs):
    r = json.loads(json.dumps(runs[10, "balanced"]))
    assert {"dim", "seeds", "seed", "init", "n", "lr", "steps", "threshold", "imp", "lrr",
            "imp_matches_theory", "lrr_matches_theory", "imp_matches_1d_rule"} <= set(r)
    for name in ("imp", "lrr"):
        assert set(r[name]) == {"success_rate", "mask_correct_rate", "theory_rate"}
    for key in ("a0", "w1_0", "kept", "mask_correct", "imp_success", "lrr_success", "imp_loss",
                "lrr_loss", "imp_aw", "lrr_aw", "dense_changed_sign", "dense_drift"):
        assert len(r[key]) == SEEDS, key
    assert (r["dim"], r["seeds"], r["init"], r["steps"]) == (10, SEEDS, "balanced", 10000)


def test_run_is_deterministic_given_the_seed():
    first, second = sn.run(2, 5, seed=7, steps=50), sn.run(2, 5, seed=7, steps=50)
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    assert sn.run(2, 5, seed=8, steps=50)["a0"] != first["a0"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(dim=0), "dim must be an integer >= 1, got 0"),
    (dict(seeds=0), "seeds must be an integer >= 1, got 0"),
    (dict(lr=0.0), "lr must be a positive number, got 0.0"),
    (dict(init="normal"), "init must be one of balanced, uniform, got 'normal'"),
    (dict(steps=-1), "steps must be an integer >= 0, got -1"),
])
def test_bad_arguments_raise_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sn.run(**{"dim": 2, "seeds": 3, **kwargs})


@pytest.mark.slow  # the `runs` fixture trains 1,000s of problems (seconds)
def test_plots_write_png(runs, tmp_path):
    paths = [tmp_path / "d1.png", tmp_path / "d10.png", tmp_path / "rates.png"]
    sn.plot_quadrants(runs[1, "balanced"], paths[0])
    sn.plot_quadrants(runs[10, "uniform"], paths[1])
    sn.plot_success_vs_dim({d: runs[d, "balanced"] for d in (1, 2, 10)}, paths[2])
    for path in paths:
        assert path.read_bytes()[:8] == PNG


@pytest.mark.slow
def test_launcher_writes_results_and_plots(launches):
    folder, good, _ = launches
    stdout, stderr = good.communicate(timeout=180)
    assert good.returncode == 0, stderr
    assert [line.split()[0] for line in stdout.splitlines()] == ["D=1", "D=2"]
    results = json.loads((folder / "sn.json").read_text())
    assert sorted(results) == ["1", "2"] and results["2"]["dim"] == 2
    assert sorted(os.listdir(folder / "plots")) == [
        "quadrants_d1.png", "quadrants_d2.png", "success_vs_dim.png"]


@pytest.mark.slow
def test_launcher_refuses_a_bad_flag_with_one_line_and_writes_nothing(launches):
    folder, _, bad = launches
    _, stderr = bad.communicate(timeout=180)
    assert bad.returncode != 0
    assert stderr.strip().splitlines()[-1] == "error: dim must be an integer >= 1, got 0"
    assert not (folder / "bad.json").exists()
