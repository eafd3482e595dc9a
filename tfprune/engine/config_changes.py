"""Which configurations may run in a run directory, and the protocol that retrains a diverged
round with other settings.

A run directory holds one experiment: a configuration may resume it if it differs only in
`FREE_KEYS` (where files are, how many rounds, where it computes), or, while its first
unfinished round is marked diverged, also in `RETRAIN_KEYS` (what steers optimization). Such a
change is recorded in config_changes.json, and reports keep the run apart from runs that
never changed.
"""
import json
import os

from tfprune.core import faults, files
from tfprune.engine import config as config_lib
from tfprune.engine import methods

# Keys that may differ between two configurations of one run (the roles in config.py).
FREE_KEYS = config_lib.keys(config_lib.FREE)
RETRAIN_KEYS = config_lib.keys(config_lib.RETRAIN)


def _stored(value):
    return json.loads(json.dumps(value))  # compare as stored: tuples become lists


def check(run_dir, config, defaults=None):
    """Raises unless `config` (a dict) may run in `run_dir`: a new folder, an empty one, or
    its own run, differing only in `FREE_KEYS` or, after a diverged round, in `RETRAIN_KEYS`.

    Args:
        run_dir: a `RunDir` (a worker's is checked against the chief's).
        config: the configuration to run, as a dict.
        defaults: values of keys that a run written by an older version lacks.

    Returns:
        {key: (old, new)} of the `RETRAIN_KEYS` that change (empty if none).
    """
    run_dir = run_dir.chief()
    config = _stored(config)
    root = run_dir.root
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"--workdir={root} is a file, not a folder; use another --workdir")
    if not run_dir.is_run():
        if os.path.isdir(root) and os.listdir(root):
            raise ValueError(f"{root} is not empty and not a run directory; use another "
                             "--workdir")
        return {}
    differing = differences(run_dir.read_config(), config, defaults)
    diverged = diverged_round(run_dir)
    if not differing or (diverged is not None and set(differing) <= set(RETRAIN_KEYS)):
        return differing
    hint = (f"; after a diverged round only {', '.join(RETRAIN_KEYS)} may change"
            if diverged is not None else "")
    raise ValueError(f"{root} holds a run with another configuration "
                     f"({describe(differing)}){hint}; use another --workdir (or --overwrite to "
                     "replace it)")


def differences(old, new, defaults=None):
    """{key: (old value, new value)} of the keys outside `FREE_KEYS` in which two
    configurations (dicts) differ; `defaults` fill keys that an older `old` lacks. A one-run
    method (GMP, SET, RigL) spreads one schedule over its rounds: its --rounds is not free."""
    old, new = _stored(defaults or {}) | _stored(old), _stored(new)
    free = set(FREE_KEYS)
    if new.get("method") in methods.names() and methods.get(new["method"]).one_run:
        free.discard("rounds")
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new))
            if k not in free and old.get(k) != new.get(k)}


def describe(differing):
    """"key: old -> new, ..." of `differences`."""
    return ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in differing.items())


def write(run_dir, config, defaults=None, changed=None):
    """Checks `config` (see `check`; `changed`: what `check` returned, if called already) and
    writes it into `run_dir` (e.g. with more rounds); a worker's run directory is left to the
    chief.

    A change of `RETRAIN_KEYS` after a diverged round r restarts it: the change is noted in
    its diverged.json, its resume folder dropped, config.json written, the change appended
    to config_changes.json and diverged.json removed. A kill anywhere in between leaves
    either the old configuration (the round still diverged) or the new one, which the next
    call completes.
    """
    if not run_dir.is_chief:
        return
    config = _stored(config)
    if changed is None:
        changed = check(run_dir, config, defaults)
    r = len(run_dir.completed_rounds())
    record = run_dir.diverged(r)
    divergence = {k: v for k, v in (record or {}).items() if k != "retrain"}
    if changed:
        record = divergence | {"retrain": {k: {"old": a, "new": b}
                                           for k, (a, b) in changed.items()}}
        run_dir.mark_diverged(r, record)
        files.remove_tree(run_dir.resume_dir(r))
        faults.stage("retrain_noted")
    run_dir.write_config(config)
    if record and _applied(record, config):
        faults.stage("retrain_config_written")
        entry = {"from_round": r, "diverged": divergence, "changed": record["retrain"]}
        history = run_dir.config_changes()
        if not history or history[-1] != entry:  # a kill may have left it written once
            run_dir.write_config_changes(history + [entry])
        run_dir.clear_diverged(r)


def _applied(record, config):
    """Whether the retraining change noted in a diverged.json is the configuration's."""
    changes = record.get("retrain")
    return bool(changes) and all(config.get(k) == v["new"] for k, v in changes.items())


def diverged_round(run_dir):
    """The first unfinished round if it stopped on a non-finite loss or weights (and has not
    been switched to other settings since), else None."""
    r = len(run_dir.completed_rounds())
    record = run_dir.diverged(r)
    if record is None or (run_dir.is_run() and _applied(record, run_dir.read_config())):
        return None
    return r


def original(run_dir):
    """The configuration `run_dir` started with: its config.json with every change that
    config_changes.json records undone, newest first."""
    config = run_dir.read_config()
    for change in reversed(run_dir.config_changes()):
        config |= {k: v["old"] for k, v in change["changed"].items()}
    return config


def changed_from(run_dir):
    """The first round trained with settings changed after a divergence, or None."""
    changes = run_dir.config_changes()
    return changes[0]["from_round"] if changes else None
