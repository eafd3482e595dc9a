"""The claims report: report.md and report.html, a table of every claim's verdict at the top,
then a section per claim (its sentence, the runs behind it, the paired statistic, the rule that
gave the verdict, its figure). Both files are rendered from one list of blocks."""
from __future__ import annotations

import dataclasses
import html
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tfprune.core import files  # noqa: E402
from tfprune.core.rundir import RunDir  # noqa: E402
from tfprune.report import claims as claims_lib  # noqa: E402
from tfprune.report import figures, stats  # noqa: E402
from tfprune.theory import single_neuron  # noqa: E402


@dataclasses.dataclass
class Outcome:
    """One claim's result: its statistic (None when it could not be judged, `note` says why),
    the runs behind it ([(variant, overrides, [folders relative to the report])]) and its
    figure (a path relative to the report, or None)."""
    claim: claims_lib.Claim
    stat: stats.Paired | None
    runs: list
    figure: str | None = None
    note: str = ""

    @property
    def verdict(self):
        return self.stat.verdict if self.stat else "not judged"


def _pruned(run_of, variant, seed, metric):
    """(densities, values) of `metric` over one run's pruned rounds."""
    run = RunDir(run_of(variant, seed))
    rounds = [run.metrics(r) for r in run.completed_rounds() if r > 0]
    return [m.get("density") for m in rounds], [m.get(metric) for m in rounds]


def draw_claim(claim, run_of, seeds, differences, path):
    """Left: each term's metric against density (mean over seeds); right: the differences per
    seed (thin) and their mean (thick) against density, with the line the verdict is about
    (0, or the band of +-margin). Saved as the PNG `path`."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=120)
    all_pruned = all(t.rounds == "pruned" for t in claim.terms)
    seen = set()
    for term in claim.terms:
        if (term.variant, term.metric) in seen:
            continue
        seen.add((term.variant, term.metric))
        series = [_pruned(run_of, term.variant, s, term.metric) for s in seeds]
        n = min(len(d) for d, _ in series)
        values = np.array([[np.nan if v is None else v for v in vals[:n]] for _, vals in series])
        label = term.variant if len({t.metric for t in claim.terms}) == 1 else (
            f"{term.variant}: {term.metric}")
        left.plot(series[0][0][:n], np.nanmean(values, axis=0), "o-", ms=3, label=label)
    left.set_xscale("log")
    left.invert_xaxis()
    left.set_xlabel("density")
    left.set_ylabel(claim.terms[0].metric.replace("_", " "))
    left.legend(fontsize=7)
    width = differences.shape[1]
    if all_pruned:
        x = _pruned(run_of, claim.terms[0].variant, seeds[0], "density")[0][:width]
        right.set_xscale("log")
        right.invert_xaxis()
        right.set_xlabel("density")
        for ax in (left, right):
            ticks = figures.log_ticks(x, max_ticks=6)
            figures.plain_log_axis(ax.xaxis, ticks)
    else:
        x = list(range(1, width + 1))
        right.set_xlabel("pair of rounds (" + ", ".join(
            f"{t.variant} {t.rounds}" for t in claim.terms) + ")")
    for seed, row in zip(seeds, differences):
        right.plot(x, row, "-", lw=0.8, alpha=0.6, label=f"seed {seed}")
    right.plot(x, differences.mean(axis=0), "k-o", lw=2, ms=3, label="mean")
    if claim.kind == "close":
        right.axhspan(-claim.margin, claim.margin, color="tab:green", alpha=0.12)
    right.axhline(0, color="k", lw=0.6)
    right.set_ylabel(f"difference ({claim.unit.strip()})" if claim.unit.strip() else
                     "difference")
    right.legend(fontsize=7)
    fig.suptitle(claim.sentence, fontsize=9)
    figures.save(fig, path)


def draw_theory(results, path):
    """A theory claim's figure: the single neuron's outcomes over a(0) and w1(0)."""
    single_neuron.plot_quadrants(results, path)


def statistic(outcome):
    """The statistic in words, for the table and the section."""
    s, claim = outcome.stat, outcome.claim
    if s is None:
        return outcome.note
    if claim.kind == "share":
        return (f"share {s.mean:.3f} [{s.low:.3f}, {s.high:.3f}] of {s.pairs} seeds agree "
                f"with the prediction (level {claim.margin})")
    return (f"{s.mean:+.2f}{claim.unit} [{s.low:+.2f}, {s.high:+.2f}], {s.agree}/{s.pairs} "
            f"seed-density pairs agree, {s.seeds} seeds")


def blocks(title, preamble, outcomes):
    """The report as blocks: ("h1"|"h2"|"p"|"code", text), ("table", header, rows), ("img",
    path, alt)."""
    out = [("h1", title)] + [("p", line) for line in preamble]
    out.append(("table", ["claim", "verdict", "statistic"],
                [[o.claim.name, o.verdict, statistic(o)] for o in outcomes]))
    counts = {v: sum(o.verdict == v for o in outcomes) for v in stats.VERDICTS}
    out.append(("p", ", ".join(f"{n} {v}" for v, n in counts.items()) + f" of {len(outcomes)} "
                "claims."))
    for o in outcomes:
        claim = o.claim
        out += [("h2", claim.name), ("p", f"**Claim.** {claim.sentence}")]
        if claim.theory:
            out.append(("p", f"**Runs.** the {claim.theory} simulation ({len(o.runs)} "
                        "settings below), one problem per seed."))
            out.append(("code", "\n".join(f"{k}={v}" for k, v in o.runs)))
        else:
            terms = " ".join(f"{t.weight:+g} x {t.metric}({t.variant}, {t.rounds} rounds)"
                             for t in claim.terms)
            out.append(("p", f"**Difference** (x {claim.scale:g}; positive is what the claim "
                        f"says): {terms}."))
            out.append(("table", ["variant", "settings", "runs"],
                        [[v, ", ".join(f"{k}={x}" for k, x in overrides.items()),
                          " ".join(folders)] for v, overrides, folders in o.runs]))
        out.append(("p", f"**Statistic.** {statistic(o)}."))
        given = {"close": f" Margin: {claim.margin}{claim.unit}.",
                 "share": f" Level: {claim.margin}."}.get(claim.kind, "")
        out.append(("p", f"**Verdict: {o.verdict}.** The rule ({claim.kind}): "
                    f"{stats.RULES[claim.kind]}{given}"))
        if o.figure:
            out.append(("img", o.figure, claim.name))
    return out


def _markdown(blocks_):
    lines = []
    for block in blocks_:
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "code":
            lines += ["```", block[1], "```", ""]
        elif kind == "img":
            lines += [f"![{block[2]}]({block[1]})", ""]
        else:
            header, rows = block[1], block[2]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |"
                      for row in rows]
            lines.append("")
    return "\n".join(lines)


def _inline(text):
    """Escaped text with **bold** spans as <b>."""
    parts = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def _html(blocks_):
    body = []
    for block in blocks_:
        kind = block[0]
        if kind in ("h1", "h2", "p"):
            body.append(f"<{kind}>{_inline(block[1])}</{kind}>")
        elif kind == "code":
            body.append(f"<pre>{html.escape(block[1])}</pre>")
        elif kind == "img":
            body.append(f'<p><img src="{html.escape(block[1])}" alt="{html.escape(block[2])}" '
                        'style="max-width:100%"></p>')
        else:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row)
                           + "</tr>" for row in block[2])
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:"
             "collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(blocks_[0][1])}</title><style>{style}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write(out, title, preamble, outcomes):
    """Writes `<out>/report.md` and `<out>/report.html`; returns their paths."""
    content = blocks(title, preamble, outcomes)
    paths = [os.path.join(out, "report.md"), os.path.join(out, "report.html")]
    files.write_text(paths[0], _markdown(content))
    files.write_text(paths[1], _html(content))
    return paths
