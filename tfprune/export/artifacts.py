"""Exports rounds of a finished run as deployable models, each measured on the run's test set.

For every round of a `Plan` (see `export_plan`): the round's model is rebuilt from its
checkpoint and mask, stripped of its masks, and written in each format; every artifact is
reloaded from its file and re-evaluated on the run's test set. A float artifact must reach
the round's metrics.json test accuracy within `TOLERANCE_POINTS` and hold the Keras model's
nonzero weights (`unfaithful`), or the export fails and writes nothing; int8's change is
reported. LiteRT flatbuffers are timed at each batch size
(median of repeated `invoke()` calls) with XNNPACK and with the builtin kernels, the Keras
model too (a `tf.function` call), and each is compared with the dense round 0 in the same
format, measured in the same run of the tool (`speedup_vs_dense`). Structured runs: a
channel-pruned round is rebuilt from its kept channels as a smaller dense model before any
format is written (`shrink`); an N:M round's kernels are checked to follow the pattern.
Everything is built in a hidden folder inside --out and moved into place at the end; the run
directory is only read.
"""
import contextlib
import dataclasses
import gzip
import io
import logging as std_logging
import os
import shutil
import tarfile
import tempfile

import numpy as np
from absl import logging

from tfprune.core import files, logs
from tfprune.core.rundir import RunDir
from tfprune.engine import build
from tfprune.engine.config import Config
from tfprune.export import latency, litert, shrink, tradeoff
from tfprune.export import plan as export_plan
from tfprune.masking import channel_graph, kerases, masked_model, prunable
from tfprune.pruning import channels as channel_maths
from tfprune.pruning import structures
from tfprune.masking.kerases import tf
from tfprune.training import state

TOLERANCE_POINTS = 0.1  # float artifacts vs metrics.json, in accuracy points (percent)
_LITERT_KINDS = {"tflite": litert.FLOAT, "tflite_sparse": litert.SPARSE,
                 "tflite_int8": litert.INT8}


@dataclasses.dataclass(frozen=True)
class Options:
    """How to measure: which interpreter, its threads, the latency calls and batch sizes
    (repeats=0: no latency), and the calibration examples of int8."""
    interpreter: str = "auto"
    threads: int = 1
    repeats: int = 100
    batch_sizes: tuple = (1, 32)
    calibration_examples: int = 1024

    def __post_init__(self):
        checks = [(self.threads >= 1, f"--threads={self.threads} must be >= 1"),
                  (self.repeats >= 0, f"--repeats={self.repeats} must be >= 0 (0: no latency)"),
                  (self.calibration_examples >= 1,
                   f"--calibration_examples={self.calibration_examples} must be >= 1"),
                  (all(b >= 1 for b in self.batch_sizes) and self.batch_sizes,
                   f"--batch_sizes={','.join(map(str, self.batch_sizes))} must be >= 1")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclasses.dataclass
class Round:
    """A round's model without masks, with what it was trained and measured on; `structure`:
    what export.json says of its structure (a channel round's model is the smaller one)."""
    r: int
    config: Config
    data: object  # datasets.base.Data
    model: object  # the stripped Keras model
    mask: object  # tfprune.Mask
    metrics: dict
    structure: dict = dataclasses.field(default_factory=dict)


def load_round(run, r):
    """Rebuilds round `r` of `run`: its checkpoint's weights, its mask applied, then stripped
    (and, under --structure=channel, rebuilt from its kept channels and checked)."""
    run_dir = RunDir(run)
    config = Config.from_dict(run_dir.read_config())
    data = build.load_data(config, r)
    model = build.build_model(config, data)
    state.restore_state(model, run_dir.checkpoint_dir(r))
    mask = run_dir.mask(r)
    masked_model.set_masks(model, mask)
    rnd = Round(r, config, data, masked_model.strip(model), mask, run_dir.metrics(r))
    kind = structures.parse(config.structure).kind
    rnd.structure = {"structure": config.structure}
    if kind == "channel":
        _shrink(rnd)
    elif kind == "nm" and r > 0:  # (the dense round 0 follows no pattern)
        rnd.structure |= nm_pattern(rnd.model, structures.parse(config.structure), config)
    return rnd


def _shrink(rnd):
    """Replaces a channel round's model by the smaller one, checked on 256 test inputs."""
    channels = channel_graph.build(rnd.model, rnd.config.ignore_layers)
    keep = channel_maths.kept_classes(channels, rnd.mask)
    rnd.structure |= {"channels_kept": int(keep.sum()), "channels": len(keep)}
    if keep.all():
        return
    small = shrink.check(shrink.shrink(rnd.model, channels, keep), rnd.model,
                         _inputs(rnd.data, 256))
    logging.info("round %d: rebuilt from %d of its %d removable channels: %s weights "
                 "instead of %s (outputs differ by %.1e of the largest)", rnd.r,
                 small.channels_kept, small.channels, f"{small.weights:,}",
                 f"{small.original_weights:,}", small.difference)
    rnd.model = small.model
    rnd.structure |= {"weights": small.weights, "original_weights": small.original_weights,
                      "output_difference": small.difference}


def nm_pattern(model, structure, config):
    """export.json's record of an N:M round: which kernels' nonzero weights follow N of every
    M consecutive inputs (what GPU sparse tensor cores need), and which it cannot divide."""
    kernels = {w.key: w.variable.numpy() for w in prunable.walk(model, config.ignore_layers)
               if w.prunable}
    unfit = structures.unfit(structure, {k: v.shape for k, v in kernels.items()})
    follows = [k for k in sorted(kernels) if k not in unfit
               and structures.is_structured(kernels[k] != 0, structure)]
    broken = sorted(set(kernels) - set(unfit) - set(follows))
    if broken:
        raise ValueError(f"{broken[0]} does not follow {structure}: the run's masks are not "
                         "N:M (was it trained by this version of tfprune?)")
    return {"pattern": str(structure), "kernels_following": follows,
            "kernels_unfit": sorted(unfit)}


def set_threads(threads):
    """Asks TensorFlow for `threads` intra-op threads (for the Keras latency); returns what it
    uses (0: its default, every core). Only possible before TensorFlow runs its first op."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError as e:
        logging.info("TensorFlow's threads stay as they are (%s)", e)
    return tf.config.threading.get_intra_op_parallelism_threads()


# Sizes.
def size_bytes(path):
    """The bytes of a file, or of every file in a folder."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(folder, name))
               for folder, _, names in os.walk(path) for name in names)


def gzip_bytes(path):
    """The bytes of `path` compressed with gzip -9 (a folder as a tar archive of its files in
    name order, without dates or owners): what the artifact costs to download."""
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return len(gzip.compress(f.read(), compresslevel=9, mtime=0))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w") as tar:
            for folder, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    full = os.path.join(folder, name)
                    info = tar.gettarinfo(full, arcname=os.path.relpath(full, path))
                    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
    return len(buffer.getvalue())


def weight_counts(arrays):
    """{"weights", "nonzero_weights"} of the arrays of rank >= 2 (kernels, not biases or
    BatchNorm vectors), as `litert.weight_counts` counts a flatbuffer's.

    >>> weight_counts([np.eye(2), np.ones(3)])
    {'weights': 4, 'nonzero_weights': 2}
    """
    kernels = [np.asarray(a) for a in arrays if np.ndim(a) >= 2]
    return {"weights": int(sum(a.size for a in kernels)),
            "nonzero_weights": int(sum(np.count_nonzero(a) for a in kernels))}


# Writing and reading artifacts.
def _bare(model):
    """`model` without its optimizer, to ship: Keras 3 saves a compiled model's optimizer."""
    if kerases.of(model) == kerases.KERAS3 and getattr(model, "optimizer", None) is not None:
        if getattr(model, "inputs", None):
            keras = kerases.keras(kerases.KERAS3)
            return keras.Model(model.inputs, model.outputs, name=model.name)
        logging.info("%s is not a functional model: its .keras file keeps the optimizer state",
                     model.name)
    return model


@contextlib.contextmanager
def _quiet_stdout(what):
    """Keras 3 prints what it exports: kept for -v 1 instead of the terminal."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        yield
    if text.getvalue().strip():
        logging.vlog(1, "%s printed:\n%s", what, text.getvalue().rstrip())


@contextlib.contextmanager
def _dropping_tf_warning(start):
    """Drops TensorFlow's log lines that begin with `start` (a known false alarm)."""
    drop = lambda record: not record.getMessage().startswith(start)  # noqa: E731
    logger = std_logging.getLogger("tensorflow")
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def write(fmt, rnd, path, calibration_examples):
    """Writes round `rnd`'s model as `fmt` to `path`; returns the flatbuffer of LiteRT formats.

    Raises:
        ValueError: the model cannot be converted to `fmt` (the reason in one line).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model = _bare(rnd.model)
    try:
        if fmt == "keras":
            model.save(path)
        elif fmt == "saved_model":
            if kerases.of(model) == kerases.KERAS3:
                with _quiet_stdout("Keras 3 export"):
                    model.export(path, format="tf_saved_model")
            else:
                with _dropping_tf_warning("Compiled the loaded model, but the compiled metrics"):
                    model.save(path, save_format="tf")  # (tf_keras says so of any model)
        else:
            kind = _LITERT_KINDS[fmt]
            calibration = None
            if kind == litert.INT8:
                calibration = litert.calibration_batches(rnd.data.train, calibration_examples)
            flatbuffer = litert.convert(rnd.model, rnd.data.input_shape, kind, calibration)
            with open(path, "wb") as f:
                f.write(flatbuffer)
            return flatbuffer
    except (ValueError, TypeError, NotImplementedError, tf.errors.OpError) as e:
        message = logs.one_line(e)
        raise ValueError(f"round {rnd.r} cannot be exported as {fmt}: {message}") from e
    return None


def reload(fmt, path, keras_flavour, batch_size=128, interpreter="auto"):
    """Loads the artifact at `path` back.

    Returns:
        (predict, counts): a function numpy inputs -> numpy outputs, and the artifact's
        {"weights", "nonzero_weights"} (LiteRT: also "sparse_tensors", "densify_ops").
    """
    if fmt == "keras":
        model = kerases.keras(keras_flavour).models.load_model(path, compile=False)
        return (_padded(model.predict_on_batch, batch_size),
                weight_counts([w.numpy() for w in model.weights]))
    if fmt == "saved_model":
        loaded = tf.saved_model.load(path)
        signature = loaded.signatures["serving_default"]
        (name, spec), = signature.structured_input_signature[1].items()

        def call(x):
            outputs = signature(**{name: tf.constant(x, spec.dtype)})
            return next(iter(outputs.values())).numpy()
        call.loaded = loaded  # the signature needs its object alive
        unique = {id(v): v for v in loaded.variables}.values()
        return call, weight_counts([v.numpy() for v in unique])
    with open(path, "rb") as f:
        flatbuffer = f.read()
    runner = litert.Runner(flatbuffer, batch_size, interpreter)
    counts = litert.weight_counts(flatbuffer)
    counts = {k: counts[k] for k in ("weights", "nonzero_weights", "sparse_tensors",
                                     "densify_ops")}
    return (lambda x: np.concatenate([runner(x[i:i + batch_size])
                                      for i in range(0, len(x), batch_size)]), counts)


def _padded(call, batch_size):
    """`call` on batches of exactly `batch_size` rows (the last one padded with zeros): a
    Keras predict function is traced once, not once more for a smaller last batch."""
    def padded(x):
        x = np.asarray(x, np.float32)
        outputs = []
        for start in range(0, len(x), batch_size):
            chunk = x[start:start + batch_size]
            fill = np.zeros((batch_size - len(chunk), *x.shape[1:]), np.float32)
            outputs.append(np.asarray(call(np.concatenate([chunk, fill])))[:len(chunk)])
        return np.concatenate(outputs)
    return padded


def accuracy(predict, dataset):
    """The share of examples of a dataset of (x, y) batches whose arg-max output is y."""
    right = total = 0
    for x, y in dataset:
        logits = predict(np.asarray(x, np.float32))
        right += int(np.sum(np.argmax(logits, axis=-1) == np.asarray(y).reshape(-1)))
        total += len(logits)
    return right / total


# Latency.
def _inputs(data, rows):
    """The first `rows` test inputs (repeated if the test set is smaller), float32."""
    xs, have = [], 0
    for x, _ in data.test:
        xs.append(np.asarray(x, np.float32))
        have += len(xs[-1])
        if have >= rows:
            break
    x = np.concatenate(xs)
    return np.resize(x, (rows, *x.shape[1:]))


def keras_latency(model, data, options):
    """{batch size: median ms} of the Keras model called in a `tf.function`."""
    x = _inputs(data, max(options.batch_sizes))
    function = tf.function(lambda t: model(t, training=False))

    def make(b):
        batch = tf.constant(x[:b])
        return lambda: function(batch).numpy()
    return latency.by_batch(make, options.batch_sizes, options.repeats)


def litert_latency(flatbuffer, data, options):
    """{resolver: {batch size: median ms}} of a flatbuffer, with XNNPACK and without."""
    x = _inputs(data, max(options.batch_sizes))
    out = {}
    for resolver in (litert.XNNPACK, litert.BUILTIN):
        def make(b):
            runner = litert.Runner(flatbuffer, b, options.interpreter, resolver, options.threads)
            return runner.invoker(x[:b])
        out[resolver] = latency.by_batch(make, options.batch_sizes, options.repeats)
    return out


def _ms(times):
    return " ".join(f"b{b} {ms:.3f}" for b, ms in times.items()) + " ms"


def _ms_by_resolver(latencies):
    return "; ".join(f"{resolver} {_ms(times)}" for resolver, times in latencies.items())


# The export.
def export_round(plan, r, staging, options):
    """Writes and measures round `r` in every format of `plan` under `staging`; returns its
    record for export.json. Raises ValueError if an artifact is `unfaithful`."""
    rnd = load_round(plan.run, r)
    expected = rnd.metrics["test_accuracy"]
    reference = weight_counts([w.numpy() for w in rnd.model.weights])
    record = {"round": r, "mask_density": rnd.mask.density, "mask_kept": rnd.mask.num_kept,
              "mask_weights": rnd.mask.num_weights, "metrics_test_accuracy": expected,
              "structure": rnd.structure, "artifacts": {}}
    logging.info("round %d: density %.4f, metrics.json test accuracy %.2f%%", r,
                 rnd.mask.density, 100 * expected)
    if options.repeats:
        record["keras_latency_ms"] = keras_latency(rnd.model, rnd.data, options)
        logging.info("  keras (tf.function): %s", _ms(record["keras_latency_ms"]))
    for fmt in plan.formats:
        relative = os.path.relpath(plan.artifact_path(r, fmt), plan.out)
        path = os.path.join(staging, relative)
        flatbuffer = write(fmt, rnd, path, options.calibration_examples)
        predict, counts = reload(fmt, path, rnd.config.keras, rnd.config.batch_size,
                                 options.interpreter)
        measured = accuracy(predict, rnd.data.test)
        change = 100 * (measured - expected)
        artifact = {"format": fmt, "structure": rnd.config.structure, "path": relative,
                    "bytes": size_bytes(path),
                    "gzip_bytes": gzip_bytes(path), **counts,
                    "density": counts["nonzero_weights"] / max(counts["weights"], 1),
                    "test_accuracy": measured, "accuracy_change_points": round(change, 4)}
        _log_artifact(artifact)
        problem = unfaithful(artifact, expected, reference)
        if problem:
            raise ValueError(f"round {r}: {problem}; the export is not faithful, nothing was "
                             "written")
        if flatbuffer is not None and options.repeats:
            artifact["latency_ms"] = litert_latency(flatbuffer, rnd.data, options)
            logging.info("  %s latency: %s", fmt, _ms_by_resolver(artifact["latency_ms"]))
        if flatbuffer is not None:
            artifact["sparse_kernels_run"] = bool(counts["sparse_tensors"]
                                                  and not counts["densify_ops"])
        record["artifacts"][fmt] = artifact
    return record


def unfaithful(artifact, expected_accuracy, reference):
    """What makes an artifact unlike the round's model, or None.

    A float artifact must reach `expected_accuracy` (metrics.json's) within
    `TOLERANCE_POINTS`, and keep the nonzero weights of the Keras model (`reference`, from
    `weight_counts`) where it holds as many weights; int8 may lose accuracy and round a
    few weights to zero, never gain nonzero weights.

    >>> ok = {"format": "tflite", "weights": 8, "nonzero_weights": 4,
    ...       "accuracy_change_points": 0.05}
    >>> unfaithful(ok, 0.9, {"weights": 8, "nonzero_weights": 4}) is None
    True
    >>> unfaithful(ok | {"nonzero_weights": 3}, 0.9, {"weights": 8, "nonzero_weights": 4})
    'the tflite model holds 3 nonzero weights of 8, the Keras model 4'
    """
    fmt, change = artifact["format"], artifact["accuracy_change_points"]
    is_float = fmt in export_plan.FLOAT_FORMATS
    if is_float and abs(change) > TOLERANCE_POINTS + 1e-9:
        measured = 100 * expected_accuracy + change
        return (f"the {fmt} model's test accuracy {measured:.2f}% differs from metrics.json's "
                f"{100 * expected_accuracy:.2f}% by {abs(change):.2f} points (more than "
                f"{TOLERANCE_POINTS})")
    if artifact["weights"] != reference["weights"]:
        logging.info("  %s holds %d weights in kernels, the Keras model %d: their nonzero "
                     "weights are not compared", fmt, artifact["weights"], reference["weights"])
        return None
    kept, nonzero = reference["nonzero_weights"], artifact["nonzero_weights"]
    if nonzero > kept or (is_float and nonzero != kept):
        return (f"the {fmt} model holds {nonzero} nonzero weights of {artifact['weights']}, "
                f"the Keras model {kept}")
    return None


def _log_artifact(a):
    line = (f"  {a['format']}: {a['bytes']:,} bytes (gzip {a['gzip_bytes']:,}), density "
            f"{a['density']:.4f} ({a['nonzero_weights']:,} of {a['weights']:,} weights), test "
            f"accuracy {100 * a['test_accuracy']:.2f}% ({a['accuracy_change_points']:+.2f} points)")
    logging.info("%s", line)
    if a["format"] == "tflite_sparse":
        if not a["sparse_tensors"]:
            logging.info("  tflite_sparse: the converter stored no tensor sparsely (too dense "
                         "for it): the file is the float model")
        elif a["densify_ops"]:
            logging.info("  tflite_sparse: %d tensors stored sparsely, %d DENSIFY ops: the "
                         "runtime densifies them once when it loads the model, then runs the "
                         "dense kernels (smaller file, same speed)", a["sparse_tensors"],
                         a["densify_ops"])


def dense_baseline(run, formats, options):
    """Latency of the dense round 0: Keras, and every LiteRT format of `formats` (converted in
    memory): {"round": 0, "keras_latency_ms": ..., "<format>_latency_ms": ...}."""
    rnd = load_round(run, 0)
    baseline = {"round": 0, "keras_latency_ms": keras_latency(rnd.model, rnd.data, options)}
    for fmt in [f for f in formats if f in _LITERT_KINDS] or ["tflite"]:
        kind = _LITERT_KINDS[fmt]
        calibration = (litert.calibration_batches(rnd.data.train, options.calibration_examples)
                       if kind == litert.INT8 else None)
        flatbuffer = litert.convert(rnd.model, rnd.data.input_shape, kind, calibration)
        baseline[f"{fmt}_latency_ms"] = litert_latency(flatbuffer, rnd.data, options)
    logging.info("dense round 0 (baseline): keras %s; %s", _ms(baseline["keras_latency_ms"]),
                 "; ".join(f"{k[:-len('_latency_ms')]} {_ms_by_resolver(v)}"
                           for k, v in baseline.items() if k.startswith("tflite")))
    return baseline


def _baseline(plan, records, options):
    """The dense round 0's latency in each format: from its record if it was exported, else
    measured."""
    first = records[0]
    if first["round"] == 0 and (
            all(f in first["artifacts"] for f in plan.formats if f in _LITERT_KINDS)):
        return {"round": 0, "keras_latency_ms": first["keras_latency_ms"],
                **{f"{fmt}_latency_ms": a["latency_ms"] for fmt, a in first["artifacts"].items()
                   if "latency_ms" in a}}
    return dense_baseline(plan.run, plan.formats, options)


def _ratios(dense, own):
    """{batch: dense ms / own ms} (over resolvers too if nested)."""
    if isinstance(own, dict) and all(isinstance(v, dict) for v in own.values()):
        return {k: _ratios(dense[k], v) for k, v in own.items()}
    return {b: round(dense[b] / own[b], 3) for b in own}


def add_speedups(summary):
    """Gives each measured artifact of `summary` its `speedup_vs_dense` (round 0's latency in
    the same format / its own), and each round its `keras_speedup_vs_dense`."""
    base = summary["baseline"]
    for record in summary["rounds"]:
        record["keras_speedup_vs_dense"] = _ratios(base["keras_latency_ms"],
                                                   record["keras_latency_ms"])
        for fmt, artifact in record["artifacts"].items():
            if "latency_ms" in artifact and f"{fmt}_latency_ms" in base:
                artifact["speedup_vs_dense"] = _ratios(base[f"{fmt}_latency_ms"],
                                                       artifact["latency_ms"])


def export(plan, options=Options()):
    """Runs `plan`: writes its artifacts, export.json and (with --all) the trade-off figure
    into `plan.out`; returns what export.json holds. Nothing is written if anything fails."""
    _, interpreter = litert.interpreter_class(options.interpreter)
    logging.info("exporting round(s) %s of %s as %s into %s; LiteRT interpreter: %s",
                 ",".join(map(str, plan.rounds)), plan.run, ",".join(plan.formats), plan.out,
                 interpreter)
    config = RunDir(plan.run).read_config()
    summary = {
        "run": os.path.abspath(plan.run),
        **{k: config.get(k) for k in ("method", "model", "dataset", "keras")},
        "structure": config.get("structure", "unstructured"),
        "interpreter": interpreter, "tensorflow": tf.__version__,
        "tolerance_points": TOLERANCE_POINTS,
        "latency": {"cpu": latency.cpu_name(), "statistic": "median", "unit": "ms",
                    "repeats": options.repeats, "batch_sizes": list(options.batch_sizes),
                    "litert_threads": options.threads,
                    "tensorflow_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                    "resolvers": {litert.XNNPACK: "LiteRT's default XNNPACK delegate",
                                  litert.BUILTIN: "builtin kernels, no default delegate"}},
        "rounds": [],
    }
    created = not os.path.exists(plan.out)
    os.makedirs(plan.out, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=plan.out)
    try:
        for r in plan.rounds:
            summary["rounds"].append(export_round(plan, r, staging, options))
        if options.repeats:
            summary["baseline"] = _baseline(plan, summary["rounds"], options)
            add_speedups(summary)
        files.write_json(os.path.join(staging, export_plan.EXPORT_JSON), summary)
        if plan.figure:
            tradeoff.draw(summary, os.path.join(staging, export_plan.FIGURE))
        _move_into_place(plan, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not os.listdir(plan.out):
            os.rmdir(plan.out)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    written = [os.path.relpath(p, plan.out) for p in plan.targets() if os.path.lexists(p)]
    artifacts = [p for p in written if p.startswith("round_")]
    shown = artifacts if len(artifacts) <= 6 else [f"{len(artifacts)} artifacts in round_XX/"]
    logging.info("wrote into %s: %s", plan.out,
                 ", ".join(shown + [p for p in written if p not in artifacts]))
    return summary


def _move_into_place(plan, staging):
    """Moves the staged files onto their targets (replacing old ones: `plan.overwrite`)."""
    moves = []
    for target in plan.targets():
        staged = os.path.join(staging, os.path.relpath(target, plan.out))
        if not os.path.lexists(staged):
            continue
        if os.path.lexists(target) and not plan.overwrite:
            raise ValueError(f"{target} appeared during the export; pass --overwrite to "
                             "replace it")
        moves.append((staged, target))
    for staged, target in moves:
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        elif os.path.lexists(target):
            os.remove(target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(staged, target)
