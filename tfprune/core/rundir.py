"""The run directory: the contract that resumption, reports and notebooks read.

    <workdir>/config.json            the resolved configuration
    <workdir>/rewind/                state, kernels.npz and rewind.json of the rewind point (every
                                     run saves it: IMP restarts there, analyses compare with it)
    <workdir>/round_XX/mask.npz      0/1 mask of each prunable kernel
    <workdir>/round_XX/kernels.npz   trained prunable kernels, same keys
    <workdir>/round_XX/checkpoint/   full model + optimizer state at the end
    <workdir>/round_XX/metrics.json  written last: its presence marks the round complete
    <workdir>/round_XX/resume/       state after the last saved epoch of an unfinished round
    <workdir>/round_XX/diverged.json the round stopped on a NaN/Inf loss or weights
    <workdir>/config_changes.json    settings changed to retrain a diverged round, and from when
    <workdir>/results.csv            one row per completed round

Only one process writes a run directory: the chief of a multiworker run. Its other workers
read it through a `WorkerRunDir` and write into a scratch folder of their own.
"""
import csv
import io
import json
import os

from tfprune.core import faults, files
from tfprune.core.mask import Mask
from tfprune.engine import config as config_lib

RESULT_COLUMNS = ("round", "density", "test_accuracy", "test_loss", "train_loss", "seconds")


class RunDir:
    """Paths and checked reads/writes of one run directory."""

    def __init__(self, root):
        self.root = os.fspath(root)

    @property
    def config_path(self):
        return os.path.join(self.root, "config.json")

    @property
    def results_path(self):
        return os.path.join(self.root, "results.csv")

    @property
    def rewind_dir(self):
        return os.path.join(self.root, "rewind")

    def round_dir(self, r):
        return os.path.join(self.root, f"round_{r:02d}")

    def checkpoint_dir(self, r):
        return os.path.join(self.round_dir(r), "checkpoint")

    def resume_dir(self, r):
        return os.path.join(self.round_dir(r), "resume")

    def source(self, path):
        """Where to read `path`, a file or folder of this run directory: `path` itself here;
        a `WorkerRunDir` reads the chief's copy of what it has not written itself."""
        return os.fspath(path)

    def progress(self, r):
        """The progress.json of round `r`'s last epoch checkpoint, or None."""
        path = self.source(os.path.join(self.resume_dir(r), "progress.json"))
        return files.read_json(path) if os.path.exists(path) else None

    def is_complete(self, r):
        return os.path.exists(self.source(os.path.join(self.round_dir(r), "metrics.json")))

    def completed_rounds(self):
        """The rounds 0, 1, ... that are complete, stopping at the first gap."""
        r = 0
        while self.is_complete(r):
            r += 1
        return list(range(r))

    def is_run(self):
        return os.path.exists(self.source(self.config_path))

    # Configuration.
    def read_config(self):
        return files.read_json(self.source(self.config_path))

    # Keys that may differ between two configurations of this run (the roles in config.py).
    FREE_KEYS = config_lib.keys(config_lib.FREE)
    RETRAIN_KEYS = config_lib.keys(config_lib.RETRAIN)

    @property
    def changes_path(self):
        return os.path.join(self.root, "config_changes.json")

    def check_config(self, config, defaults=None):
        """Raises unless `config` (a dict) may run here: a new folder, an empty one, or its own
        run, differing only in `FREE_KEYS` or, after a diverged round, in `RETRAIN_KEYS`.

        Args:
            config: the configuration to run, as a dict.
            defaults: values of keys that a run written by an older version lacks.

        Returns:
            {key: (old, new)} of the `RETRAIN_KEYS` that change (empty if none).
        """
        config = json.loads(json.dumps(config))  # compare as stored: tuples become lists
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise ValueError(f"--workdir={self.root} is a file, not a folder; use another "
                             "--workdir")
        if not self.is_run():
            if os.path.isdir(self.root) and os.listdir(self.root):
                raise ValueError(f"{self.root} is not empty and not a run directory; "
                                 "use another --workdir")
            return {}
        old = json.loads(json.dumps(defaults or {})) | self.read_config()
        differing = {k: (old.get(k), config.get(k)) for k in sorted(set(old) | set(config))
                     if k not in self.FREE_KEYS and old.get(k) != config.get(k)}
        diverged = self.diverged_round()
        if not differing or (diverged is not None and set(differing) <= set(self.RETRAIN_KEYS)):
            return differing
        details = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in differing.items())
        hint = (f"; after a diverged round only {', '.join(self.RETRAIN_KEYS)} may change"
                if diverged is not None else "")
        raise ValueError(f"{self.root} holds a run with another configuration ({details}){hint}; "
                         "use another --workdir (or --overwrite to replace it)")

    def write_config(self, config, defaults=None):
        """Checks `config` (see `check_config`) and writes it (e.g. with more rounds).

        A change of `RETRAIN_KEYS` after a diverged round r restarts it: the change is noted
        in its diverged.json, its epoch checkpoint dropped, config.json written, the change
        appended to config_changes.json and diverged.json removed. A kill anywhere in between
        leaves either the old configuration (the round still diverged) or the new one, which
        the next call completes.
        """
        config = json.loads(json.dumps(config))
        changed = self.check_config(config, defaults)
        r = len(self.completed_rounds())
        record = self.diverged(r)
        divergence = {k: v for k, v in (record or {}).items() if k != "retrain"}
        if changed:
            record = divergence | {"retrain": {k: {"old": a, "new": b}
                                               for k, (a, b) in changed.items()}}
            files.write_json(self.diverged_path(r), record)
            files.remove_tree(self.resume_dir(r))
            faults.stage("retrain_noted")
        files.write_json(self.config_path, config)
        if record and self._applied(record, config):
            faults.stage("retrain_config_written")
            entry = {"from_round": r, "diverged": divergence, "changed": record["retrain"]}
            history = self.config_changes()
            if not history or history[-1] != entry:  # a kill may have left it written once
                files.write_json(self.changes_path, history + [entry])
            os.remove(self.diverged_path(r))

    @staticmethod
    def _applied(record, config):
        """Whether the retraining change noted in a diverged.json is the configuration's."""
        changes = record.get("retrain")
        return bool(changes) and all(config.get(k) == v["new"] for k, v in changes.items())

    def config_changes(self):
        """The list in config_changes.json: [{from_round, diverged, changed}], oldest first."""
        path = self.source(self.changes_path)
        return files.read_json(path) if os.path.exists(path) else []

    # Divergence.
    def diverged_path(self, r):
        return os.path.join(self.round_dir(r), "diverged.json")

    def mark_diverged(self, r, record):
        """Records that round `r` stopped on a non-finite loss or weights (`record`: epoch,
        loss and, if any, the non-finite variables)."""
        os.makedirs(self.round_dir(r), exist_ok=True)
        files.write_json(self.diverged_path(r), record)

    def diverged(self, r):
        path = self.source(self.diverged_path(r))
        return files.read_json(path) if os.path.exists(path) else None

    def diverged_round(self):
        """The first unfinished round if it stopped on a non-finite loss or weights (and has not been
        switched to other settings since), else None."""
        r = len(self.completed_rounds())
        record = self.diverged(r)
        if record is None or (self.is_run() and self._applied(record, self.read_config())):
            return None
        return r

    # Rounds.
    def save_round(self, r, mask, kernels, model, metrics):
        """Writes a round's files (the model's full state into its checkpoint folder);
        metrics.json last, so a crash leaves it incomplete."""
        from tfprune.training import state  # loads TensorFlow: reading a run directory does not
        folder = self.round_dir(r)
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(folder)
        if os.path.exists(self.diverged_path(r)):  # trained to the end this time
            os.remove(self.diverged_path(r))
        mask.save(os.path.join(folder, "mask.npz"))
        faults.stage(f"saved_mask:{name}")
        files.save_arrays(os.path.join(folder, "kernels.npz"), kernels)
        faults.stage(f"saved_kernels:{name}")
        state.save_state(model, self.checkpoint_dir(r))
        faults.stage(f"saved_checkpoint:{name}")
        files.write_json(os.path.join(folder, "metrics.json"), metrics)
        faults.stage(f"saved_metrics:{name}")
        self.write_results()
        files.remove_tree(self.resume_dir(r))

    def mask(self, r):
        return Mask.load(self.source(os.path.join(self.round_dir(r), "mask.npz")))

    def kernels(self, r):
        return files.load_arrays(self.source(os.path.join(self.round_dir(r), "kernels.npz")))

    def rewind_kernels(self):
        return files.load_arrays(self.source(os.path.join(self.rewind_dir, "kernels.npz")))

    def metrics(self, r):
        return files.read_json(self.source(os.path.join(self.round_dir(r), "metrics.json")))

    def write_results(self):
        """Rewrites results.csv from the metrics of every completed round."""
        out = io.StringIO()
        writer = csv.DictWriter(out, RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for r in self.completed_rounds():
            writer.writerow(self.metrics(r))
        files.write_text(self.results_path, out.getvalue())


class WorkerRunDir(RunDir):
    """The run directory as a non-chief worker of a multiworker run sees it: its writes go to
    `scratch`, a folder of the worker's own; its reads find what the worker wrote there, or
    else the chief's copy in `shared` (the run's --workdir, on a filesystem every worker sees).

    Every worker runs the same program, writes included: TensorFlow wants every worker to
    save a checkpoint (saving may read variables through collectives), each to its own path.
    What a worker reads from `shared` is what the chief wrote in an earlier process (the
    completed rounds, the rewind point of a run resumed after it, the epoch checkpoint a round
    resumes from) or before the workers last met (`experiment` checks that they agree); what
    it wrote itself in this process, it reads back from `scratch`, so it never reads a file
    the chief may be writing at that moment. The configuration is the chief's to write.
    """

    def __init__(self, shared, scratch):
        super().__init__(scratch)
        self.shared = os.fspath(shared)

    def source(self, path):
        path = os.fspath(path)
        relative = os.path.relpath(path, self.root)
        if os.path.exists(path) or relative.split(os.sep)[0] == os.pardir:
            return path
        return os.path.join(self.shared, relative)

    def check_config(self, config, defaults=None):
        """Checks `config` against the chief's run directory (see `RunDir.check_config`)."""
        return RunDir(self.shared).check_config(config, defaults)

    def write_config(self, config, defaults=None):
        """Nothing: the chief writes the configuration (this worker checked it at the start)."""
