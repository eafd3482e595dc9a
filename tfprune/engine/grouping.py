"""Which runs are averaged together: the one rule behind a sweep's aggregate.csv and the
report's figures (reads run directories only; loads no TensorFlow).

Runs that differ only in their seed (a replicate) and in settings that change no result
(location, rounds, devices: the config's FREE keys) form a group. Runs with a `name` (sweeps
set it) are grouped by name and settings, not by their sources' paths. A run retrained with
other settings after a divergence (config_changes.json) is never averaged with runs that
were not: it forms a group of its own, labelled "(settings changed at round k)".
"""
import dataclasses
import os

from tfprune.core import rundir
from tfprune.core.rundir import RunDir
from tfprune.engine import config as config_lib
from tfprune.engine import config_changes

# Keys that do not separate groups: replicates (the seed) are averaged, free keys ignored.
NOT_GROUPED = config_lib.keys(config_lib.REPLICATE) + config_lib.keys(config_lib.FREE)
SOURCES = ("mask_from", "signs_from")


@dataclasses.dataclass
class Group:
    """Runs averaged together: their `label`, `paths`, the first run's `config`, and the round
    from which their settings changed after a divergence (None: never)."""
    label: str
    paths: list
    config: dict
    changed_from: int = None


def read_config(path):
    """The config dict of the run directory `path`; refuses other folders."""
    run_dir = RunDir(path)
    if not run_dir.is_run():
        raise ValueError(f"{path} is not a run directory (no config.json); "
                         "pass folders written by `tfprune train`")
    return run_dir.read_config()


def load_run(path):
    """Returns (config dict, list of round metrics) of a run directory; refuses other folders."""
    config, run_dir = read_config(path), RunDir(path)
    rounds = [run_dir.metrics(r) for r in run_dir.completed_rounds()]
    if not rounds:
        raise ValueError(f"{path} has no completed round yet")
    return config, rounds


def find_runs(path):
    """The run directories at or below `path` (a run, or e.g. a sweep folder), sorted."""
    if RunDir(path).is_run():
        return [path]
    found = sorted(root for root, _, names in os.walk(path) if rundir.CONFIG_JSON in names)
    if not found:
        raise ValueError(f"{path} is not a run directory and holds none (no config.json); "
                         "pass folders written by `tfprune train` or `tfprune sweep`")
    return found


def _key(config, changed_from):
    name = config.get("name") or ""
    ignored = NOT_GROUPED + (SOURCES if name else ())  # a sweep's sources differ per seed
    return (name, changed_from) + tuple(sorted((k, str(v)) for k, v in config.items()
                                               if k not in ignored))


def group(paths):
    """The groups of the run directories `paths`, in the order of their first run.

    A label is the run's name (a sweep's variant, with the width when widths differ), or for
    unnamed runs the method plus the config keys that tell groups apart (e.g.
    "lrr pruning=random_erk").
    """
    paths = list(paths)
    configs = {p: read_config(p) for p in paths}
    changed = {p: config_changes.changed_from(RunDir(p)) for p in paths}
    members = {}
    for p in paths:
        members.setdefault(_key(configs[p], changed[p]), []).append(p)
    varying = {k for k in configs[paths[0]] if k not in NOT_GROUPED + ("method",)
               and len({str(c.get(k)) for c in configs.values()}) > 1}
    groups, labels = [], set()
    for group_paths in members.values():
        config, changed_from = configs[group_paths[0]], changed[group_paths[0]]
        if config.get("name"):
            shown, label = (["width"] if "width" in varying else []), config["name"]
        else:
            shown, label = sorted(varying), config["method"]
        label = f"{label} {' '.join(f'{k}={config.get(k)}' for k in shown)}".strip()
        if changed_from is not None:
            label += f" (settings changed at round {changed_from})"
        while label in labels:  # two groups that the shown keys do not tell apart
            label += "'"
        labels.add(label)
        groups.append(Group(label, group_paths, config, changed_from))
    return groups
