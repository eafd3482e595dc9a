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
