"""What an export writes and where, checked before any work (loads no TensorFlow).

An export reads a finished run directory and never writes into it. Its folder holds

    <out>/round_XX/model.keras          the stripped Keras model (either Keras)
    <out>/round_XX/saved_model/         a TensorFlow SavedModel of it
    <out>/round_XX/model.tflite         LiteRT flatbuffer, float32
    <out>/round_XX/model_sparse.tflite  the same, pruned kernels stored sparsely
    <out>/round_XX/model_int8.tflite    LiteRT flatbuffer, int8 post-training quantization
    <out>/export.json                   sizes, weights, accuracy and latency of each
    <out>/tradeoff.png                  with --all: accuracy against size and latency
"""
import dataclasses
import os

from tfprune.core.rundir import RunDir

FILES = {
    "keras": "model.keras",
    "saved_model": "saved_model",
    "tflite": "model.tflite",
    "tflite_sparse": "model_sparse.tflite",
    "tflite_int8": "model_int8.tflite",
}
FORMATS = tuple(FILES)
FLOAT_FORMATS = ("keras", "saved_model", "tflite", "tflite_sparse")  # must keep the accuracy
EXPORT_JSON = "export.json"
FIGURE = "tradeoff.png"


@dataclasses.dataclass(frozen=True)
class Plan:
    """A checked export: the run, its rounds to export, the formats and the output folder."""
    run: str
    rounds: tuple
    formats: tuple
    out: str
    figure: bool  # --all: draw the trade-off figure
    overwrite: bool

    def artifact_path(self, r, fmt):
        return os.path.join(self.out, f"round_{r:02d}", FILES[fmt])

    def targets(self):
        """Every path this export writes."""
        paths = [self.artifact_path(r, f) for r in self.rounds for f in self.formats]
        paths.append(os.path.join(self.out, EXPORT_JSON))
        if self.figure:
            paths.append(os.path.join(self.out, FIGURE))
        return paths


def parse_formats(names):
    """The formats named in `names` (a list, or a comma-separated string), in their order.

    >>> parse_formats("tflite,keras")
    ('tflite', 'keras')
    """
    if isinstance(names, str):
        names = names.split(",")
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in FILES]
    if unknown or not names:
        problem = f"unknown {', '.join(unknown)}" if unknown else "no format"
        raise ValueError(f"--formats={','.join(names)}: {problem}; valid: {','.join(FORMATS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"--formats={','.join(names)} names a format twice")
    return tuple(names)


def finished_results(run):
    """The metrics of every round of a finished run, in order.

    Raises:
        ValueError: `run` is not a run directory, or not every round is complete.
    """
    run_dir = RunDir(run)
    if not os.path.isdir(run):
        raise ValueError(f"--run={run}: no such folder")
    if not run_dir.is_run():
        raise ValueError(f"--run={run} is not a run directory (no config.json)")
    planned = int(run_dir.read_config()["rounds"])
    done = run_dir.completed_rounds()
    if len(done) <= planned:
        have = f"rounds 0-{done[-1]} of 0-{planned}" if done else f"no round of 0-{planned}"
        raise ValueError(f"--run={run} is not finished ({have} complete): finish it with "
                         f"tfprune train --workdir={run} first")
    return [run_dir.metrics(r) for r in done]


def pick_round(results, round=None, density=None, best=False):
    """The round to export: `round`, the one whose density is closest to `density`, the
    most accurate (`best`; the sparsest on a tie), or by default the last (sparsest) one.

    Args:
        results: the metrics of rounds 0, 1, ... (dicts with "density", "test_accuracy").

    >>> rs = [{"density": 1.0, "test_accuracy": .9}, {"density": .8, "test_accuracy": .95},
    ...       {"density": .64, "test_accuracy": .95}]
    >>> pick_round(rs), pick_round(rs, round=0), pick_round(rs, density=.85)
    (2, 0, 1)
    >>> pick_round(rs, best=True)
    2
    """
    if sum(x is not None and x is not False for x in (round, density, best)) > 1:
        raise ValueError("give at most one of --round, --density, --best, --all")
    last = len(results) - 1
    if round is not None:
        if not 0 <= round <= last:
            raise ValueError(f"--round={round} does not exist; the run has rounds 0-{last}")
        return round
    if density is not None:
        if not 0 < density <= 1:
            raise ValueError(f"--density={density} must be in (0, 1]")
        return min(range(len(results)), key=lambda r: (abs(results[r]["density"] - density), r))
    if best:
        return max(range(len(results)), key=lambda r: (results[r]["test_accuracy"], r))
    return last


def check_out(run, out):
    """Raises unless `out` is a folder (or a new one) outside the run directory `run`."""
    run_real, out_real = os.path.realpath(run), os.path.realpath(out)
    if os.path.commonpath([run_real, out_real]) == run_real:
        raise ValueError(f"--out={out} is inside the run directory {run}; export never writes "
                         "there: choose a folder outside it")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out={out} is a file, not a folder")


def make_plan(run, out, formats=FORMATS, round=None, density=None, best=False, all=False,
              overwrite=False):
    """A checked `Plan` (see the launcher's flags); raises ValueError on bad input.

    Files of an earlier export in `out` are refused unless `overwrite`, which replaces only
    the paths this export writes (`Plan.targets`).
    """
    if not run:
        raise ValueError("--run is required: a run directory written by `tfprune train`")
    if not out:
        raise ValueError("--out is required: the folder to export into")
    formats = parse_formats(formats)
    results = finished_results(run)
    if all:
        if round is not None or density is not None or best:
            raise ValueError("give at most one of --round, --density, --best, --all")
        rounds = tuple(range(len(results)))
    else:
        rounds = (pick_round(results, round, density, best),)
    check_out(run, out)
    plan = Plan(os.fspath(run), rounds, formats, os.fspath(out), figure=all,
                overwrite=overwrite)
    existing = [p for p in plan.targets() if os.path.lexists(p)]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ValueError(f"--out={out} already holds {os.path.relpath(existing[0], out)}{more}; "
                         "pass --overwrite to replace the export's files there, or choose "
                         "another --out")
    return plan
