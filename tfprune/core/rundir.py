"""The run directory: every path and file name of a run, and its checked reads and writes.

    <workdir>/config.json            the resolved configuration
    <workdir>/rewind/                the rewind point: a state folder, kernels.npz and
                                     rewind.json (every run saves it: IMP restarts there,
                                     analyses compare with it)
    <workdir>/round_XX/mask.npz      0/1 mask of each prunable kernel
    <workdir>/round_XX/kernels.npz   trained prunable kernels, same keys
    <workdir>/round_XX/checkpoint/   state folder: the model and optimizer at the round's end
    <workdir>/round_XX/metrics.json  written last: its presence marks the round complete
    <workdir>/round_XX/resume/       state folder of an unfinished round (its start, then its
                                     last saved epoch) with progress.json
    <workdir>/round_XX/diverged.json the round stopped on a NaN/Inf loss or weights
    <workdir>/config_changes.json    settings changed to retrain a diverged round, and from when
    <workdir>/results.csv            one row per completed round
    <workdir>/saliency.npz           --pruning=snip: the rewind point's SNIP scores

A state folder holds a model's whole training state: `ckpt.*` (a tf.train.Checkpoint,
tf_keras) or `state.npz` (every model and optimizer variable in order, Keras 3).

Only one process writes a run directory: the chief of a multiworker run. Its other workers
read it through a `WorkerRunDir` and write into a scratch folder of their own. Reading a run
directory loads no TensorFlow.
"""
import csv
import io
import os

from tfprune.core import faults, files
from tfprune.core.mask import Mask

CONFIG_JSON = "config.json"
CONFIG_CHANGES_JSON = "config_changes.json"
RESULTS_CSV = "results.csv"
REWIND = "rewind"
REWIND_JSON = "rewind.json"  # {"epoch": the rewind point's epoch}
ROUND = "round_{:02d}"
MASK_NPZ = "mask.npz"
KERNELS_NPZ = "kernels.npz"
CHECKPOINT = "checkpoint"
METRICS_JSON = "metrics.json"
RESUME = "resume"
PROGRESS_JSON = "progress.json"  # {"epoch", "logs", "sign_flips_per_epoch"} of a resume folder
DIVERGED_JSON = "diverged.json"
TF_CHECKPOINT = "ckpt"  # a state folder's tf.train.Checkpoint prefix (tf_keras)
STATE_NPZ = "state.npz"  # a state folder's variables (Keras 3)
SALIENCY_NPZ = "saliency.npz"
RESULT_COLUMNS = ("round", "density", "test_accuracy", "test_loss", "train_loss", "seconds")


def read_progress(folder):
    """The progress.json of a resume folder, or None if it has none."""
    path = os.path.join(folder, PROGRESS_JSON)
    return files.read_json(path) if os.path.exists(path) else None


def read_rewind_epoch(folder):
    """The epoch of the rewind point saved in `folder`, or None if it does not say."""
    path = os.path.join(folder, REWIND_JSON)
    return files.read_json(path)["epoch"] if os.path.exists(path) else None


class RunDir:
    """Paths and checked reads/writes of one run directory."""

    is_chief = True

    def __init__(self, root):
        self.root = os.fspath(root)

    def chief(self):
        """The run directory as the chief writes it (this one)."""
        return self

    # Paths.
    @property
    def config_path(self):
        return os.path.join(self.root, CONFIG_JSON)

    @property
    def changes_path(self):
        return os.path.join(self.root, CONFIG_CHANGES_JSON)

    @property
    def results_path(self):
        return os.path.join(self.root, RESULTS_CSV)

    @property
    def rewind_dir(self):
        return os.path.join(self.root, REWIND)

    @property
    def saliency_path(self):
        return os.path.join(self.root, SALIENCY_NPZ)

    def round_dir(self, r):
        return os.path.join(self.root, ROUND.format(r))

    def checkpoint_dir(self, r):
        return os.path.join(self.round_dir(r), CHECKPOINT)

    def resume_dir(self, r):
        return os.path.join(self.round_dir(r), RESUME)

    def diverged_path(self, r):
        return os.path.join(self.round_dir(r), DIVERGED_JSON)

    def _round_file(self, r, name):
        return self.source(os.path.join(self.round_dir(r), name))

    def source(self, path):
        """Where to read `path`, a file or folder of this run directory: `path` itself here;
        a `WorkerRunDir` reads the chief's copy of what it has not written itself."""
        return os.fspath(path)

    # Reads.
    def is_run(self):
        return os.path.exists(self.source(self.config_path))

    def read_config(self):
        return files.read_json(self.source(self.config_path))

    def is_complete(self, r):
        return os.path.exists(self._round_file(r, METRICS_JSON))

    def completed_rounds(self):
        """The rounds 0, 1, ... that are complete, stopping at the first gap."""
        r = 0
        while self.is_complete(r):
            r += 1
        return list(range(r))

    def progress(self, r):
        """The progress.json of round `r`'s resume folder (its start or last saved epoch),
        or None."""
        return read_progress(self.source(self.resume_dir(r)))

    def mask(self, r):
        return Mask.load(self._round_file(r, MASK_NPZ))

    def kernels(self, r):
        return files.load_arrays(self._round_file(r, KERNELS_NPZ))

    def metrics(self, r):
        return files.read_json(self._round_file(r, METRICS_JSON))

    def rewind_kernels(self):
        return files.load_arrays(self.source(os.path.join(self.rewind_dir, KERNELS_NPZ)))

    def diverged(self, r):
        """Round `r`'s diverged.json, or None."""
        path = self.source(self.diverged_path(r))
        return files.read_json(path) if os.path.exists(path) else None

    def config_changes(self):
        """The list in config_changes.json: [{from_round, diverged, changed}], oldest first."""
        path = self.source(self.changes_path)
        return files.read_json(path) if os.path.exists(path) else []

    # Writes.
    def write_config(self, config):
        files.write_json(self.config_path, config)

    def write_config_changes(self, changes):
        files.write_json(self.changes_path, changes)

    def mark_diverged(self, r, record):
        """Records that round `r` stopped on a non-finite loss or weights (`record`: epoch,
        loss and, if any, the non-finite variables; later the retraining change)."""
        os.makedirs(self.round_dir(r), exist_ok=True)
        files.write_json(self.diverged_path(r), record)

    def clear_diverged(self, r):
        if os.path.exists(self.diverged_path(r)):
            os.remove(self.diverged_path(r))

    def save_round(self, r, mask, kernels, metrics, write_checkpoint, earlier=None):
        """Writes a round's files, `write_checkpoint(folder)` its state folder; metrics.json
        last, so a crash leaves it incomplete. `earlier`: the metrics of rounds 0 to r - 1, if
        the caller holds them (results.csv is then written without reading them again)."""
        folder = self.round_dir(r)
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(folder)
        self.clear_diverged(r)  # trained to the end this time
        mask.save(os.path.join(folder, MASK_NPZ))
        faults.stage(f"saved_mask:{name}")
        files.save_arrays(os.path.join(folder, KERNELS_NPZ), kernels)
        faults.stage(f"saved_kernels:{name}")
        write_checkpoint(self.checkpoint_dir(r))
        faults.stage(f"saved_checkpoint:{name}")
        files.write_json(os.path.join(folder, METRICS_JSON), metrics)
        faults.stage(f"saved_metrics:{name}")
        self.write_results(None if earlier is None else list(earlier) + [metrics])
        files.remove_tree(self.resume_dir(r))

    def write_results(self, rows=None):
        """Rewrites results.csv from the metrics of every completed round (`rows`, or read)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows if rows is not None else map(self.metrics, self.completed_rounds()):
            writer.writerow(row)
        files.write_text(self.results_path, out.getvalue())


class WorkerRunDir(RunDir):
    """The run directory as a non-chief worker of a multiworker run sees it: its writes go to
    `scratch`, a folder of the worker's own; its reads find what the worker wrote there, or
    else the chief's copy in `shared` (the run's --workdir, on a filesystem every worker sees).

    Every worker runs the same program, writes included: TensorFlow wants every worker to
    save a checkpoint (saving may read variables through collectives), each to its own path.
    What a worker reads from `shared` is what the chief wrote in an earlier process (the
    completed rounds, the rewind point of a run resumed after it, the resume folder a round
    goes on from) or before the workers last met (the engine checks that they agree); what
    it wrote itself in this process, it reads back from `scratch`, so it never reads a file
    the chief may be writing at that moment. The configuration is the chief's to write.
    """

    is_chief = False

    def __init__(self, shared, scratch):
        super().__init__(scratch)
        self.shared = os.fspath(shared)

    def chief(self):
        return RunDir(self.shared)

    def source(self, path):
        path = os.fspath(path)
        relative = os.path.relpath(path, self.root)
        if os.path.exists(path) or relative.split(os.sep)[0] == os.pardir:
            return path
        return os.path.join(self.shared, relative)
