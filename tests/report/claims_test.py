"""The claims as data: every claim's grid is a valid sweep, and its differences and verdict
come out of a sweep folder as computed by hand (fake runs of metrics only)."""
import json

import numpy as np
import pytest

from tfprune.engine.config import Config
from tfprune.grid import sweep
from tfprune.report import claims


def fake_sweep(folder, values):
    """{variant: {seed: [metrics of each round]}} written as a sweep folder's runs."""
    for variant, by_seed in values.items():
        for seed, rounds in by_seed.items():
            run = folder / sweep.run_dir_name(variant, seed)
            run.mkdir(parents=True)
            (run / "config.json").write_text(json.dumps({"seed": seed, "name": variant}))
            for r, metrics in enumerate(rounds):
                (run / f"round_{r:02d}").mkdir()
                (run / f"round_{r:02d}" / "metrics.json").write_text(json.dumps(metrics))


def test_every_claims_grid_is_a_valid_sweep(tmp_path):
    variants = claims.grid(claims.CLAIMS)
    jobs = sweep.plan({"rounds": 2}, variants, [0, 1], [], str(tmp_path))
    assert len(jobs) == 2 * len(variants)
    assert all(isinstance(Config.from_dict(job.config), Config) for job in jobs)
    assert len(set(claims.names())) == len(claims.CLAIMS)
    with pytest.raises(ValueError, match="unknown claim 'x'; valid: lrr_beats_imp, "):
        claims.get("x")


def test_differences_and_verdicts_by_hand(tmp_path):
    def run_of(variant, seed):
        return str(tmp_path / sweep.run_dir_name(variant, seed))

    acc = {"lrr": [0.90, 0.95, 0.96, 0.95], "imp": [0.90, 0.94, 0.94, 0.92]}
    flips = {"lrr": [None, 0.05, 0.04, 0.01, 0.0], "imp": [None, 0.02, 0.01, 0.0, 0.0]}
    values = {m: {s: [{"test_accuracy": a + 0.001 * s, "sign_flips_vs_prev_round": f,
                       "sign_flips_vs_rewind": 0.01 if m == "lrr" else 0.001}
                      for a, f in zip(acc[m] + [acc[m][-1]], flips[m])] for s in (0, 1, 2)}
              for m in acc}
    values["imp"][2] = values["imp"][2][:4]  # one run is a round short: rounds in common
    fake_sweep(tmp_path, values)
    d = claims.differences(claims.get("lrr_beats_imp"), run_of, [0, 1, 2])
    np.testing.assert_allclose(d, [[1, 2, 3]] * 3, atol=1e-9)  # points, pruned rounds 1-3
    result = claims.evaluate(claims.get("lrr_beats_imp"), run_of, [0, 1, 2])
    assert (result.mean, result.agree, result.pairs) == (pytest.approx(2.0), 9, 9)
    assert result.verdict == "holds"  # every seed +2 on average: the interval is the point 2
    early = claims.differences(claims.get("lrr_flips_signs_early"), run_of, [0, 1])
    np.testing.assert_allclose(early, [[5 - 1, 4 - 0]] * 2, atol=1e-9)  # rounds 1,2 vs 3,4
    assert claims.evaluate(claims.get("imp_keeps_its_rewind_signs"), run_of,
                           [0, 1, 2]).agree == 9
    with pytest.raises(ValueError, match="no run of variant 'imp_lrr_mask', seed 0"):
        claims.evaluate(claims.get("lrr_finds_better_masks"), run_of, [0])


def test_width_claim_and_scale_overrides(tmp_path):
    def run_of(variant, seed):
        return str(tmp_path / sweep.run_dir_name(variant, seed))

    acc = {"lrr": [0.9, 0.96], "imp": [0.9, 0.93], "lrr_narrow": [0.9, 0.92],
           "imp_narrow": [0.9, 0.91]}
    fake_sweep(tmp_path, {v: {s: [{"test_accuracy": a} for a in values] for s in (0, 1, 2)}
                          for v, values in acc.items()})
    claim = claims.get("width_helps_lrr_more")
    np.testing.assert_allclose(claims.differences(claim, run_of, [0, 1, 2]), [[2.0]] * 3,
                               atol=1e-9)  # LRR gains 4 points from width, IMP 2
    variants = claims.grid([claim], {"lrr_narrow": {"width": 32}, "imp_narrow": {"width": 32}})
    assert variants["lrr_narrow"] == {"method": "lrr", "width": 32} and variants["lrr"] == {
        "method": "lrr"}


def test_single_neuron_claim_is_judged_by_its_simulation():
    claim = claims.get("single_neuron_theory")
    assert claims.grid([claim]) == {}
    a0 = [1.0, 1.0, -1.0, -1.0, 2.0]
    w1 = [1.0, -1.0, 1.0, -1.0, 0.5]
    results = dict(a0=a0, w1_0=w1, imp_success=[True, False, False, False, True],
                   lrr_success=[True, True, False, False, True])
    assert claims.judge_theory(claim, results).agree == 5
    results["imp_success"][1] = True  # IMP succeeded with w1(0) < 0: against the theory
    results["lrr_success"][2] = True  # LRR succeeded with a(0) < 0: against it too
    result = claims.judge_theory(claim, results)
    assert (result.agree, result.pairs, result.verdict) == (3, 5, "does not hold")


def test_first_and_last_rounds_must_not_overlap(tmp_path):
    fake_sweep(tmp_path, {"lrr": {0: [{"sign_flips_vs_prev_round": f} for f in (None, .2, .1, 0)],
                                  1: [{"sign_flips_vs_prev_round": f} for f in (None, .2, .1, 0)]}})
    with pytest.raises(ValueError, match="first 2 and the last 2 pruned rounds: it needs 4 or "
                                         "more, the runs of 'lrr' have 3"):
        claims.differences(claims.get("lrr_flips_signs_early"),
                           lambda v, s: str(tmp_path / sweep.run_dir_name(v, s)), [0, 1])
