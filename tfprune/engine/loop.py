"""The pruning loop: train dense, then mask (prune, or transfer with --mask_from), restart and
retrain, round after round."""
import collections
import contextlib
import dataclasses
import math
import shutil
import tempfile
import time

from absl import logging

from tfprune.core import analysis, files
from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir, WorkerRunDir
from tfprune.datasets import registry as datasets
from tfprune.engine import console, distribute, experiments, methods, tensorboard
from tfprune.engine.config import Config
from tfprune.masking import kerases, masked_model
from tfprune.masking.kerases import tf
from tfprune.models import registry as models
from tfprune.training import callbacks as cb
from tfprune.training import schedules, state


def load_data(config, r):
    """The data of round `r`: its own shuffle seed, so a resumed round sees the same order."""
    kerases.keras(config.keras).utils.set_random_seed(config.seed)  # tf.data's seeds combine
    return datasets.get(config.dataset, batch_size=config.batch_size, seed=config.seed * 1000 + r,
                        data_dir=config.data_dir, download=config.download)


def build_model(config, data, strategy=None):
    """The wrapped, compiled model at its seeded initialization, built in `strategy`'s scope."""
    with (strategy or tf.distribute.get_strategy()).scope():
        return _build_model(config, data)


def _build_model(config, data):
    keras = kerases.keras(config.keras)
    previous = keras.mixed_precision.global_policy()
    try:
        return _build_model_in_policy(config, data, keras)
    finally:  # layers keep the policy they were built with; the process gets its own back
        keras.mixed_precision.set_global_policy(previous)


def _build_model_in_policy(config, data, keras):
    keras.utils.set_random_seed(config.seed)
    distribute.set_precision(config.mixed_precision, config.keras)
    width = config.width
    if width is not None and float(width).is_integer():
        width = int(width)
    model = models.get(config.model, data.input_shape, data.num_classes, width, keras=keras)
    if kerases.of(model) != config.keras:
        raise ValueError(f"model {config.model!r} was built with Keras {kerases.of(model)}, "
                         f"but the run has --keras={config.keras}")
    if config.mixed_precision:  # logits and loss in float32, as mixed precision needs
        model = keras.Model(model.inputs, keras.layers.Activation(
            "linear", dtype="float32", name="logits_float32")(model.outputs[0]), name=model.name)
    model = masked_model.wrap(model, ignore=config.ignore_layers)
    schedule = schedules.RoundSchedule(
        config.lr, steps_per_epoch=math.ceil(data.train_size / config.batch_size),
        epochs=config.epochs, warmup_epochs=config.warmup_epochs, kind=config.schedule,
        finetune_lr=config.finetune_lr,
        drops=[e / config.epochs for e in config.lr_drop_epochs] or schedules.PAPER_DROPS)
    optimizer = keras.optimizers.SGD(schedule, momentum=config.momentum,
                                     weight_decay=config.weight_decay or None)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=config.jit_compile)
    return model


class Stopwatch:
    """Adds up the wall time of named phases: `with stopwatch("save"): ...`."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)

    @contextlib.contextmanager
    def __call__(self, phase):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start


def run(config, callbacks=(), stopwatch=None, model_fn=None, data=None):
    """Runs (or resumes) every round of `config`; returns the metrics of each round.

    Rounds already complete in `config.workdir` are not trained again.

    Args:
        config: a `Config`, or a dict of its fields (needed with `model_fn` or `data`, whose
            names it gives as "model" and "dataset").
        callbacks: extra Keras callbacks for every round's `fit` (e.g. a step timer).
        stopwatch: a `Stopwatch` that receives the time of each phase (setup, data, mask,
            fit, evaluate, analysis, save, summaries), for benchmarks.
        model_fn: your model: `model_fn(input_shape, num_classes, width=None, *, keras)`
            returns a new, unwrapped model (of config's Keras); registered as "model".
        data: your data: a `Data` (batched with config's batch size), or a loader
            `(batch_size, seed=, data_dir=, download=) -> Data`; registered as "dataset".

    Example (your model and data, the whole engine: resume, TensorBoard, report):
        run({"model": "mine", "dataset": "mine", "keras": "3", "method": "lrr",
             "workdir": "runs/mine"}, model_fn=build, data=my_data)
    """
    config = _with_user_parts(config, model_fn, data)
    with _op_determinism(config.deterministic):
        return _run_on_this_worker(config, list(callbacks), stopwatch or Stopwatch())


@contextlib.contextmanager
def _op_determinism(on):
    """TensorFlow's op determinism on for the run if `on`; the process gets its own back."""
    from tensorflow.python.framework import config as tf_config  # no public getter/disabler
    previous = tf_config.is_op_determinism_enabled()
    if on:
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if on and not previous:
            tf_config.disable_op_determinism()


def _run_on_this_worker(config, callbacks, stopwatch):
    """`run` of a `Config`: the chief trains into the run directory, other workers in step."""
    strategy = distribute.make_strategy(config.strategy, config.cpu_devices)
    if distribute.is_chief(strategy):
        return _run(config, RunDir(config.workdir), strategy, callbacks, stopwatch)
    # The other workers of a multiworker run train the same rounds in step with the chief: they
    # read the chief's run directory and write into a scratch folder, thrown away at the end.
    scratch = tempfile.mkdtemp(prefix="tfprune_worker_")
    try:
        return _run(config, WorkerRunDir(config.workdir, scratch), strategy, callbacks,
                    stopwatch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _with_user_parts(config, model_fn, data):
    """`config` as a `Config`, after registering a user's model and data under its names."""
    if isinstance(config, Config):
        if model_fn is not None or data is not None:
            raise ValueError("with model_fn or data, give the config as a dict: its 'model' "
                             "and 'dataset' name them")
        return config
    values = dict(config)
    if model_fn is not None:
        values.setdefault("model", "custom")
        models.register(values["model"], model_fn)
    if data is not None:
        values.setdefault("dataset", "custom")
        loader = data if callable(data) else (lambda batch_size, **_: data)
        datasets.register(values["dataset"], loader)
    return Config(**values)


@dataclasses.dataclass
class RoundContext:
    """What every round of a run shares: its settings, files, model and instruments."""
    config: Config
    method: methods.Method
    run_dir: RunDir
    model: object
    sources: dict  # {"mask": RunDir or None, "signs": RunDir or None}: see experiments.sources
    writer: object  # the run's TensorBoard writer
    callbacks: list  # the caller's extra callbacks for every fit
    stopwatch: Stopwatch
    clock: console.RunClock
    strategy: object = None  # the tf.distribute strategy (None: the default one)


def _run(config, run_dir, strategy, callbacks, stopwatch):
    defaults = type(config)().to_dict()  # for runs written before a key existed
    run_dir.check_config(config.to_dict(), defaults)
    done = run_dir.completed_rounds()
    for r in done:  # a kill between a round's metrics.json and this cleanup leaves its epochs
        files.remove_tree(run_dir.resume_dir(r))
    # Multiworker: the workers' first collective. They must resume alike, or their collectives
    # (variables created, all-reduces) would differ and wait for each other forever.
    resumed = run_dir.progress(len(done))
    distribute.agree(strategy, "the run directory", ["completed_rounds", "resume_epoch"],
                     [len(done), resumed["epoch"] if resumed else -1])
    if len(done) > config.rounds:  # nothing to train: no data, no model
        return [run_dir.metrics(r) for r in range(config.rounds + 1)]
    with stopwatch("setup"):
        method = methods.get(config.method)
        data = load_data(config, len(done))
        models.check_fits(config.model, data.input_shape, config.dataset)
        model = build_model(config, data, strategy)
        sources = experiments.sources(config, model)
        if done:
            logging.info("resuming %s after round %d", config.workdir, done[-1])
            state.restore_state(model, run_dir.source(run_dir.checkpoint_dir(done[-1])))
            # read now what later rounds read, to fail before any training
            run_dir.mask(done[-1]), run_dir.kernels(done[-1]), run_dir.rewind_kernels()
        results = [run_dir.metrics(r) for r in done]
        # Only once data, model, sources and state load; drops a diverged round's epochs if
        # its settings changed, so it restarts.
        run_dir.write_config(config.to_dict(), defaults)
        # Multiworker: a barrier; the others read on (the epoch checkpoint, which a diverged
        # round's new settings drop) once the chief has written this.
        distribute.agree(strategy, "the run directory", ["completed_rounds"], [len(done)])
        writer = open_writer(config, method, run_dir, done)
    clock = console.RunClock(epochs_to_train(config, method, run_dir, len(done)))
    context = RoundContext(config, method, run_dir, model, sources, writer, callbacks, stopwatch,
                           clock, strategy)
    try:
        for r in range(len(done), config.rounds + 1):
            if r > len(done):
                with stopwatch("data"):
                    data = load_data(config, r)
            results.append(train_round(context, r, data))
    finally:
        writer.close()
    return results


def epochs_to_train(config, method, run_dir, first_round):
    """The epochs this process has to train, from round `first_round` on (for the ETA)."""
    return sum(config.epochs - (resume_epoch(config, method, run_dir, r) if r == first_round
                                else first_epoch(config, method, r))
               for r in range(first_round, config.rounds + 1))


def resume_epoch(config, method, run_dir, r):
    """The epoch round `r` goes on from in this process: after its last epoch checkpoint, or
    at its first epoch."""
    resumed = run_dir.progress(r)
    return resumed["epoch"] if resumed else first_epoch(config, method, r)


def open_writer(config, method, run_dir, done):
    """The run's TensorBoard writer, set up so that TensorBoard shows every epoch and round
    once: what an interrupted or diverged attempt wrote past the point where this process
    goes on is dropped, and the summaries of a completed round that a kill cut off are
    written again."""
    r = len(done)
    tensorboard.mark_restart(run_dir.root,
                           r * config.epochs + resume_epoch(config, method, run_dir, r))
    missing = sorted(set(done) - tensorboard.logged_rounds(run_dir.root)) if done else []
    writer = tf.summary.create_file_writer(run_dir.root, flush_millis=10_000)  # live view
    tensorboard.write_layout(writer)
    for k in missing:
        tensorboard.write_round(writer, run_dir.metrics(k), run_dir.kernels(k), run_dir.mask(k))
    return writer


def train_round(context, r, data):
    """Sets round `r`'s mask (r >= 1: pruned, or transferred with --mask_from), restarts as the
    method says, trains, evaluates and saves round `r`."""
    c = context
    config, run_dir, model = c.config, c.run_dir, c.model
    start = time.perf_counter()
    with c.stopwatch("mask"):
        mask, starting, initial_epoch = start_round(c, r)
    resumed = run_dir.progress(r)
    if resumed:  # killed mid-round: continue after its last finished epoch, as if never stopped
        logging.info("resuming round %d after epoch %d", r, resumed["epoch"])
        state.restore_state(model, run_dir.source(run_dir.resume_dir(r)))
        starting = still_due_on_resume(starting, resumed["epoch"])
        for _ in range(resumed["epoch"] - initial_epoch):
            iter(data.train)  # each new iterator draws the next epoch's shuffle and augmentation
        initial_epoch = resumed["epoch"]
    distribute.agree(c.strategy, f"the start of round {r}", ["round", "epoch", "mask_checksum"],
                     [r, initial_epoch, distribute.checksum(mask)])
    prefix = f"[round {r}/{config.rounds} density {mask.density:.4f}] "
    eval_kwargs = {}
    if config.eval_every:
        eval_kwargs = dict(validation_data=data.test, validation_freq=config.eval_every)
    flips = cb.SignFlips(resumed["sign_flips_per_epoch"] if resumed else ())
    with c.stopwatch("fit"), _record_divergence(run_dir, r):
        history = model.fit(
            data.train, epochs=config.epochs, initial_epoch=initial_epoch, verbose=0,
            callbacks=starting + experiments.training_callbacks(config, r) + [
                cb.StopIfDiverged(f"round {r} of {run_dir.root} (earlier rounds are intact): ",
                                  "--finetune_lr" if r and c.method.lr_start == "continue"
                                  else "--lr"),
                cb.KeepMasks(), flips, console.Progress(prefix, c.clock),
                tensorboard.EpochSummaries(c.writer, r * config.epochs),
                cb.EpochCheckpoint(run_dir.resume_dir(r), flips, config.checkpoint_every)]
            + c.callbacks, **eval_kwargs)
    last = {k: v[-1] for k, v in history.history.items()} or resumed["logs"]
    with c.stopwatch("evaluate"):
        test = model.evaluate(data.test, verbose=0, return_dict=True)
    kernels = masked_model.get_kernels(model)
    metrics = {
        "round": r,
        "method": config.method,
        "density": mask.density,
        "layer_density": mask.layer_densities(),
        "test_accuracy": float(test["accuracy"]),
        "test_loss": float(test["loss"]),
        "train_loss": float(last["loss"]),
        "train_accuracy": float(last["accuracy"]),
        "epochs": config.epochs - first_epoch(config, c.method, r),
        "sign_flips_per_epoch": flips.per_epoch,
    }
    with c.stopwatch("analysis"):
        previous = (run_dir.kernels(r - 1), run_dir.mask(r - 1)) if r else None
        metrics.update(round_analysis(kernels, mask, run_dir.rewind_kernels(), previous))
    metrics["seconds"] = time.perf_counter() - start
    with c.stopwatch("save"):
        run_dir.save_round(r, mask, kernels, model, metrics)
    with c.stopwatch("summaries"):
        tensorboard.write_round(c.writer, metrics, kernels, mask)
    left = c.clock.eta()
    logging.info("%stest_accuracy=%.4f test_loss=%.4f sign_flips_vs_rewind=%.4f (%.1fs)%s",
                 prefix, metrics["test_accuracy"], metrics["test_loss"],
                 metrics["sign_flips_vs_rewind"], metrics["seconds"],
                 f"; {r + 1} of {config.rounds + 1} rounds done, run ETA "
                 f"{console.duration(left)}" if left is not None and r < config.rounds else "")
    return metrics


def still_due_on_resume(starting, epoch):
    """The resume rule: a round resumed after `epoch` has already run its starting callbacks
    (rewound, reset the schedule, set signs) and must not run them again on top of its saved
    state; only a rewind point still to be saved (after a later epoch) remains due."""
    return [callback for callback in starting
            if isinstance(callback, cb.SaveRewindPoint) and callback.epoch > epoch]


@contextlib.contextmanager
def _record_divergence(run_dir, r):
    """Marks round `r` diverged in the run directory when `TrainingDiverged` passes through."""
    try:
        yield
    except cb.TrainingDiverged as e:
        run_dir.mark_diverged(r, e.record())
        raise


def first_epoch(config, method, r):
    """The epoch round `r` starts at: 0 for the dense round, the method's for pruned ones."""
    return method.initial_epoch(config.rewind_epoch) if r else 0


def start_round(context, r):
    """Sets round `r`'s mask (once); returns it, the callbacks that start its training (restart
    or rewind, rewind point, signs, BatchNorm), and its first epoch."""
    c = context
    if r == 0:
        mask = Mask.ones_like(masked_model.get_kernels(c.model))
        starting = [cb.RestartSchedule(), cb.SaveRewindPoint(c.run_dir.rewind_dir,
                                                              c.config.rewind_epoch)]
    else:
        mask = experiments.round_mask(c.config, masked_model.get_kernels(c.model),
                                   c.run_dir.mask(r - 1), c.sources, r)
        starting = (c.method.callbacks(c.run_dir.source(c.run_dir.rewind_dir))
                    + experiments.start_callbacks(c.config, c.run_dir, c.sources, r))
    masked_model.set_masks(c.model, mask)
    return mask, starting, first_epoch(c.config, c.method, r)


def round_analysis(kernels, mask, rewind_kernels, previous=None):
    """Sign flips, weight distances and mask changes of a round, as flat metrics.

    Args:
        kernels, mask: the round's trained kernels and its mask.
        rewind_kernels: the kernels of the rewind point.
        previous: (kernels, mask) at the end of the previous round, or None.

    Returns:
        {name: global value} plus {"layer_" + name: {layer: value}} for each analysis.
    """
    distance = analysis.distances(rewind_kernels, kernels, mask)
    results = {
        "sign_flips_vs_rewind": analysis.sign_flips(rewind_kernels, kernels, mask),
        "distance_from_rewind": distance["l2"],
        "cosine_to_rewind": distance["cosine"],
    }
    if previous is not None:
        previous_kernels, previous_mask = previous
        results["sign_flips_vs_prev_round"] = analysis.sign_flips(previous_kernels, kernels, mask)
        results["mask_overlap_prev_round"] = analysis.mask_overlap(previous_mask, mask)
        results["mask_hamming_prev_round"] = analysis.mask_hamming(previous_mask, mask)
    flat = {}
    for name, value in results.items():
        flat[name] = value["global"]
        flat["layer_" + name] = value["layers"]
    return flat
