"""The claims report from fake runs (metrics only): the verdict table at the top, a section per
claim with its runs, statistic, rule and figure, the same content in Markdown and HTML."""
import os

import numpy as np

from tfprune.grid import sweep
from tfprune.report import claims, claims_report, stats

from claims_test import fake_sweep


def test_report_from_a_fake_sweep(tmp_path):
    def run_of(variant, seed):
        return str(tmp_path / sweep.run_dir_name(variant, seed))

    densities = [1.0, 0.8, 0.64, 0.512, 0.4096]
    acc = {"lrr": [0.90, 0.95, 0.96, 0.95, 0.95], "imp": [0.90, 0.94, 0.94, 0.92, 0.91],
           "lrr_imp_mask": [0.90, 0.90, 0.90, 0.90, 0.90]}
    fake_sweep(tmp_path, {v: {s: [{"test_accuracy": a + 0.001 * s, "density": d,
                                   "sign_flips_vs_prev_round": 0.1 / (r + 1)}
                                  for r, (a, d) in enumerate(zip(values, densities))]
                              for s in (0, 1, 2)} for v, values in acc.items()})
    seeds = [0, 1, 2]
    outcomes = []
    for name in ("lrr_beats_imp", "lrr_optimizes_any_mask", "lrr_flips_signs_early"):
        claim = claims.get(name)
        figure = f"figures/{name}.png"
        claims_report.draw_claim(claim, run_of, seeds, claims.differences(claim, run_of, seeds),
                                 str(tmp_path / figure))
        runs = [(v, claim.variants[v], [sweep.run_dir_name(v, s) for s in seeds])
                for v in claim.variants]
        outcomes.append(claims_report.Outcome(claim, claims.evaluate(claim, run_of, seeds),
                                              runs, figure))
    outcomes.append(claims_report.Outcome(claims.get("lrr_finds_better_masks"), None, [], None,
                                          "no run of variant 'imp_lrr_mask', seed 0"))
    a0 = np.array([1.0, 1.0, -1.0, -1.0] * 10)
    w1 = np.array([1.0, -1.0, 1.0, -1.0] * 10)
    results = dict(dim=2, init="balanced", a0=a0.tolist(), w1_0=w1.tolist(),
                   imp_success=((a0 > 0) & (w1 > 0)).tolist(), lrr_success=(a0 > 0).tolist())
    theory = claims.get("single_neuron_theory")
    claims_report.draw_theory(results, str(tmp_path / "figures" / "theory.png"))
    outcomes.append(claims_report.Outcome(theory, claims.judge_theory(theory, results),
                                          [("dim", 2), ("seeds", 40)], "figures/theory.png"))

    md_path, html_path = claims_report.write(str(tmp_path), "Claims", ["Scale **x**."],
                                             outcomes)
    md, page = open(md_path).read(), open(html_path).read()
    table = md[:md.index("\n## ")]
    assert "| lrr_beats_imp | holds | +2.50 points [+2.50, +2.50], 12/12 seed-density pairs " \
           "agree, 3 seeds |" in table  # +1, +2, +3, +4 points at densities 0.8 to 0.41
    assert "| lrr_optimizes_any_mask | does not hold |" in table  # 5-6 points below LRR
    assert "| lrr_finds_better_masks | not judged | no run of variant" in table
    assert "| single_neuron_theory | holds | share 1.000 [0.912, 1.000] of 40 seeds" in table
    assert "3 holds, 1 does not hold, 0 inconclusive of 5 claims." in md
    for outcome in outcomes:
        assert f"## {outcome.claim.name}\n\n**Claim.** {outcome.claim.sentence}" in md
        assert stats.RULES[outcome.claim.kind] in md
        if outcome.figure:
            assert f"]({outcome.figure})" in md and f'src="{outcome.figure}"' in page
            assert os.path.getsize(tmp_path / outcome.figure) > 10_000
    assert "Margin: 1.0 points." in md and "Level: 0.9." in md
    assert "| imp | method=imp | imp/seed_0 imp/seed_1 imp/seed_2 |" in md
    assert page.count("<h2>") == 5 and "<b>Verdict: holds.</b>" in page
    assert "<td>lrr_beats_imp</td><td>holds</td>" in page
