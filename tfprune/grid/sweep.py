"""Grids of runs (variants x seeds x widths) into one folder: resumable, with aggregates.

A variant is a name and Config overrides. In `mask_from` and `signs_from`, "@other"
names another variant of the grid: the run of that variant with the same seed and
width (so sources are listed, and run, first).
"""
import csv
import dataclasses
import io
import itertools
import os

import numpy as np
from absl import logging

from tfprune.core import files
from tfprune.core.rundir import RunDir
from tfprune.engine import config_changes, grouping
from tfprune.engine.config import Config
from tfprune.grid import executors, shards

NAMED = {
    "methods": {"lrr": {"method": "lrr"}, "imp": {"method": "imp"}, "ft": {"method": "ft"}},
    "masks": {
        "lrr": {"method": "lrr"},
        "imp": {"method": "imp"},
        "imp_with_lrr_mask": {"method": "imp", "mask_from": "@lrr"},
        "lrr_with_imp_mask": {"method": "lrr", "mask_from": "@imp"},
    },
    "random": {f"{m}_{p}": {"method": m, "pruning": p} for m, p in itertools.product(
        ("lrr", "imp"), ("random_uniform", "random_global", "random_erk", "random_balanced"))},
    "signs": {
        "lrr": {"method": "lrr"},
        "imp": {"method": "imp"},
        "imp_with_lrr_signs": {"method": "imp", "signs": "source", "signs_from": "@lrr"},
        "imp_with_own_signs": {"method": "imp", "signs": "trained"},
        "imp_with_own_signs_shuffled": {"method": "imp", "signs": "trained",
                                        "shuffle_magnitudes": True},
        "lrr_with_initial_signs": {"method": "lrr", "signs": "rewind"},
        "lrr_with_bn_rewind": {"method": "lrr", "rewind_bn": True},
    },
    "perturb": {
        "lrr": {"method": "lrr"},
        "imp": {"method": "imp"},
        "lrr_perturbed": {"method": "lrr", "perturb_signs": 0.3},
        "imp_perturbed": {"method": "imp", "perturb_signs": 0.3},
    },
    "fixed_signs": {
        "lrr": {"method": "lrr"},
        "imp": {"method": "imp"},
        "lrr_fixed_signs": {"method": "lrr", "fixed_signs": True},
        "imp_fixed_signs": {"method": "imp", "fixed_signs": True},
    },
}
STRUCTURES = {"unstructured": "unstructured", "channel": "channel", "block1x4": "block:1x4",
              "nm24": "nm:2:4"}


def _per_structure(variants):
    """`variants` under each of STRUCTURES, named "<variant>_<structure>"; a "@source" then
    names the source of the same structure."""
    out = {}
    for label, spec in STRUCTURES.items():
        for name, overrides in variants.items():
            renamed = {k: f"{v}_{label}" if k.endswith("_from") else v
                       for k, v in overrides.items()}
            out[f"{name}_{label}"] = renamed | {"structure": spec}
    return out


# The paper's question under structure: LRR vs IMP and the mask transfers, per structure.
NAMED["structure"] = _per_structure(NAMED["masks"])
# Beyond the paper: how magnitude pruning spreads its budget over layers, and whether a
# method's mask alone carries its result (open_lth's random reinitialization).
NAMED["budget"] = {f"{m}_{b}": {"method": m, "budget": b} for m, b in itertools.product(
    ("lrr", "imp"), ("global", "uniform", "erk"))}
NAMED["reinit"] = {"lrr": {"method": "lrr"}, "imp": {"method": "imp"},
                   "lrr_reinit": {"method": "lrr", "reinit": True},
                   "imp_reinit": {"method": "imp", "reinit": True}}
AGGREGATED = ("density", "test_accuracy", "test_loss", "sign_flips_vs_rewind",
              "sign_flips_vs_prev_round")


def run_dir_name(variant, seed, width=None):
    """"<variant>/seed_<s>", or "<variant>/width_<w>/seed_<s>" in a width sweep."""
    return os.path.join(variant, f"width_{width:g}" if width is not None else "", f"seed_{seed}")


def expand(variants, seeds, widths, out):
    """The grid as a list of (workdir, overrides), sources before their users."""
    for name, overrides in variants.items():
        if not isinstance(overrides, dict):
            raise ValueError(f"variant {name!r} must map to a dict of config overrides, "
                             f"got {overrides!r}")
    runs = []
    for width, (name, overrides), seed in itertools.product(widths or [None], variants.items(),
                                                            seeds):
        resolved = dict(overrides, seed=seed, name=name)
        if width is not None:
            resolved["width"] = width
        for key in ("mask_from", "signs_from"):
            ref = resolved.get(key)
            if isinstance(ref, str) and ref.startswith("@"):
                if ref[1:] not in variants:
                    raise ValueError(f"variant {name!r}: {key}={ref} names no variant of the "
                                     f"grid; variants: {', '.join(variants)}")
                if list(variants).index(ref[1:]) > list(variants).index(name):
                    raise ValueError(f"variant {name!r} needs {ref[1:]!r} listed before it")
                resolved[key] = os.path.join(out, run_dir_name(ref[1:], seed, width))
        runs.append((os.path.join(out, run_dir_name(name, seed, width)), resolved))
    return runs


def plan(base, variants, seeds, widths, out):
    """The grid as validated `executors.Job`s, sources before their users (bad values fail
    here, before any run starts)."""
    jobs = []
    for workdir, overrides in expand(variants, seeds, widths, out):
        config = Config.from_dict(DEFAULTS | base | overrides | {"workdir": workdir}).to_dict()
        sources = tuple(config[k] for k in ("mask_from", "signs_from") if config[k])
        jobs.append(executors.Job(workdir, config, sources, os.path.relpath(workdir, out)))
    return jobs


class SweepIncomplete(ValueError):
    """Some runs of the sweep failed; the others finished (`outcomes`, `rows` for them)."""

    def __init__(self, failed, total, table, outcomes, rows):
        super().__init__(f"{failed} of {total} runs failed (see the table above); "
                         "fix them and run the same command again: finished runs are kept")
        self.table, self.outcomes, self.rows = table, outcomes, rows


def run(base, variants, seeds, widths, out, executor="serial", shard=None, max_retries=0,
        source_timeout=24 * 3600.0, **options):
    """Runs (or resumes) every run of the grid, or of one shard of it; writes `<out>/
    aggregate.csv` over every complete run of the grid and returns its rows.

    Args:
        base: Config values shared by every run (the launcher's flags).
        variants: {name: Config overrides}, e.g. NAMED["masks"].
        seeds, widths: lists (widths may be empty: the model's own width).
        out: the sweep folder.
        executor: "serial" (this process, one run after another) or "ray" (a Ray task per run;
            `options`: ray_address, cpus_per_run, gpus_per_run).
        shard: (I, N): run only shard I of N (serial), waiting up to `source_timeout` seconds
            for sources that another shard runs.
        max_retries: retries of a run that raises or whose process dies (not of bad input).

    Raises:
        SweepIncomplete: after every run ended, if some failed.
    """
    jobs = plan(base, variants, seeds, widths, out)
    mine = jobs
    if shard is not None:
        if executor != "serial":
            raise ValueError("--shard runs its part of the grid in this process: use it with "
                             "--executor=serial (the scheduler runs the shards side by side)")
        mine = shards.select(jobs, *shard)
        logging.info("shard %d/%d: %d of the grid's %d runs", *shard, len(mine), len(jobs))
    done = [job for job in mine if job.is_done()]
    todo = [job for job in mine if job not in done]
    if done:
        logging.info("sweep: %d of %d runs already complete", len(done), len(mine))
    outcomes = {job.workdir: check_done(job) for job in done}
    if todo:
        own = {job.workdir for job in mine}

        def wait(job):  # sources that another shard runs
            foreign = dataclasses.replace(job, sources=tuple(s for s in job.sources
                                                             if s not in own))
            shards.wait_for_sources(foreign, jobs, shard[1], job.config["rounds"],
                                    source_timeout)
        ran = executors.get(executor)(todo, max_retries=max_retries,
                                      before=wait if shard else None,
                                      already_done=len(done), **options)
        outcomes |= {o.workdir: o for o in ran}
    ordered = [outcomes[job.workdir] for job in mine]
    table = executors.summary(mine, ordered)
    logging.info("sweep status:\n%s", table)
    rows = aggregate(out, [job.workdir for job in jobs
                           if job.is_done() and not other_settings(job)])
    failed = sum(o.status != "done" for o in ordered)
    if failed:
        raise SweepIncomplete(failed, len(mine), table, ordered, rows)
    return rows


def check_done(job):
    """The `Outcome` of a run found complete: "done" if it ran the sweep's settings (see
    `other_settings`; a run retrained after a divergence is said in a warning), else "failed"
    with the reason."""
    error = other_settings(job)
    if error:
        return executors.Outcome(job.workdir, "failed", error)
    run_dir = RunDir(job.workdir)
    changed_from = config_changes.changed_from(run_dir)
    if changed_from is not None:
        logging.warning("sweep: %s was retrained with other settings from round %d after a "
                        "divergence (%s); aggregate.csv keeps it in a row of its own",
                        job.label, changed_from, run_dir.changes_path)
    return executors.Outcome(job.workdir, "done")


def settings_differences(job):
    """{key: (the run's, the job's)} of the settings in which the run in `job.workdir` (as it
    started: config_changes.json undone) differs from the job's, up to FREE keys."""
    return config_changes.differences(config_changes.original(RunDir(job.workdir)), job.config,
                                      DEFAULTS)


def other_settings(job):
    """Why the complete run of `job` is not the sweep's, or None: it must have run the sweep's
    settings (up to FREE keys), or have run them until a divergence after which it was
    retrained with the changes that its config_changes.json records."""
    differing = settings_differences(job)
    if not differing:
        return None
    return (f"{job.workdir} is complete but ran other settings "
            f"({config_changes.describe(differing)}); use another --out, or delete that run "
            "to run it again")


# Every field's default: what a grid's base leaves unset, and the value of a key that a run
# written before the key existed lacks.
DEFAULTS = Config().to_dict()


def aggregate(out, workdirs):
    """Mean and standard deviation over seeds per (group, round) -> aggregate.csv, grouped by
    the report's rule (`engine.grouping`): a run retrained with other settings after a
    divergence is a row of its own, "<variant> (settings changed at round k)"."""
    if not workdirs:
        return []
    header = ["variant", "width", "round", "seeds"] + [
        f"{m}_{stat}" for m in AGGREGATED for stat in ("mean", "std")]
    rows, seen = [], set()
    for group in grouping.group(workdirs):
        runs = [[run_dir.metrics(r) for r in run_dir.completed_rounds()]
                for run_dir in map(RunDir, group.paths)]
        variant = group.config["name"] or group.config["method"]
        if group.changed_from is not None:
            variant += f" (settings changed at round {group.changed_from})"
        width = group.config["width"]
        while (variant, width) in seen:  # two groups the name does not tell apart (see label)
            variant += "'"
        seen.add((variant, width))
        for r in range(min(len(rounds) for rounds in runs)):
            row = [variant, "" if width is None else width, r, len(runs)]
            for metric in AGGREGATED:
                values = [rounds[r].get(metric) for rounds in runs]
                values = np.array([v for v in values if v is not None], float)
                row += [values.mean(), values.std()] if values.size else ["", ""]
            rows.append(row)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    files.write_text(os.path.join(out, "aggregate.csv"), text.getvalue())
    return [dict(zip(header, row)) for row in rows]
