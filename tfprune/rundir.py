"""The run directory: the contract that resumption, reports and notebooks read.

    <workdir>/config.json            the resolved configuration
    <workdir>/rewind/                checkpoint and kernels.npz of the rewind point (IMP)
    <workdir>/round_XX/mask.npz      0/1 mask of each prunable kernel
    <workdir>/round_XX/kernels.npz   trained prunable kernels, same keys
    <workdir>/round_XX/checkpoint/   full model + optimizer state at the end
    <workdir>/round_XX/metrics.json  written last: its presence marks the round complete
    <workdir>/round_XX/resume/       state after the last finished epoch of an unfinished round
    <workdir>/results.csv            one row per completed round
"""
import csv
import io
import json
import os
import shutil

from tfprune import faults, files
from tfprune.mask import Mask

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

    def progress(self, r):
        """The progress.json of round `r`'s last epoch checkpoint, or None."""
        path = os.path.join(self.resume_dir(r), "progress.json")
        return files.read_json(path) if os.path.exists(path) else None

    def is_complete(self, r):
        return os.path.exists(os.path.join(self.round_dir(r), "metrics.json"))

    def completed_rounds(self):
        """The rounds 0, 1, ... that are complete, stopping at the first gap."""
        r = 0
        while self.is_complete(r):
            r += 1
        return list(range(r))

    def is_run(self):
        return os.path.exists(self.config_path)

    # Configuration.
    def read_config(self):
        return files.read_json(self.config_path)

    # Keys that change no completed round: where things are, how many rounds to run (a run
    # can be extended), how often to evaluate, what reports call it, and where it computes
    # (a run started on a CPU can go on on GPUs; results agree within float tolerance).
    FREE_KEYS = ("workdir", "data_dir", "download", "rounds", "eval_every", "name", "strategy",
                 "cpu_devices", "jit_compile")

    def check_config(self, config, free_keys=FREE_KEYS):
        """Raises unless `config` (a dict) may run here: a new folder, an empty one, or its own
        run (differing, if at all, only in `free_keys`)."""
        config = json.loads(json.dumps(config))  # compare as stored: tuples become lists
        if self.is_run():
            old = self.read_config()
            differing = sorted(k for k in set(old) | set(config)
                               if k not in free_keys and old.get(k) != config.get(k))
            if differing:
                details = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in differing)
                raise ValueError(f"{self.root} holds a run with another configuration ({details}); "
                                 "use another --workdir")
        elif os.path.isdir(self.root) and os.listdir(self.root):
            raise ValueError(f"{self.root} is not empty and not a run directory; "
                             "use another --workdir")

    def write_config(self, config):
        """Checks `config` (see `check_config`) and writes it (e.g. with more rounds)."""
        self.check_config(config)
        files.write_json(self.config_path, config)

    # Rounds.
    def save_round(self, r, mask, kernels, save_state, metrics):
        """Writes a round's files; metrics.json last, so a crash leaves it incomplete.

        `save_state(directory)` writes the model checkpoint into a folder.
        """
        folder = self.round_dir(r)
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(folder)
        mask.save(os.path.join(folder, "mask.npz"))
        faults.stage(f"saved_mask:{name}")
        files.save_arrays(os.path.join(folder, "kernels.npz"), kernels)
        faults.stage(f"saved_kernels:{name}")
        save_state(self.checkpoint_dir(r))
        faults.stage(f"saved_checkpoint:{name}")
        files.write_json(os.path.join(folder, "metrics.json"), metrics)
        faults.stage(f"saved_metrics:{name}")
        self.write_results()
        shutil.rmtree(self.resume_dir(r), ignore_errors=True)

    def mask(self, r):
        return Mask.load(os.path.join(self.round_dir(r), "mask.npz"))

    def kernels(self, r):
        return files.load_arrays(os.path.join(self.round_dir(r), "kernels.npz"))

    def rewind_kernels(self):
        return files.load_arrays(os.path.join(self.rewind_dir, "kernels.npz"))

    def metrics(self, r):
        return files.read_json(os.path.join(self.round_dir(r), "metrics.json"))

    def write_results(self):
        """Rewrites results.csv from the metrics of every completed round."""
        out = io.StringIO()
        writer = csv.DictWriter(out, RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for r in self.completed_rounds():
            writer.writerow(self.metrics(r))
        files.write_text(self.results_path, out.getvalue())
