"""The pruning loop: train dense, then round after round set the mask (pruned, or transferred
with --mask_from), start the round (restart or rewind, signs, BatchNorm), train and save it.

A round starts in plain code, before `fit`: its mask is set, the method and the experiment
start it, and its starting state is saved into its resume folder. `fit` then trains it, its
callbacks acting only during training. A process that finds a resume folder restores it and
goes on from the epoch it names; the start is never redone. What a round needs from the
round before (trained kernels and mask) and the rewind point's kernels stay in memory: each
file is read at most once per process.
"""
import contextlib
import dataclasses
import os
import shutil
import tempfile
import time

from absl import logging

from tfprune.core import analysis, clock, faults, files, rundir
from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir, WorkerRunDir
from tfprune.engine import (
    build,
    config_changes,
    console,
    distribute,
    experiments,
    feed,
    methods,
    monitors,
    one_run,
    resume,
    scoring,
    tensorboard,
)
from tfprune.engine.config import Config
from tfprune.masking import masked_model
from tfprune.masking.kerases import tf
from tfprune.models import registry as models
from tfprune.pruning import saliency
from tfprune.training import callbacks as cb
from tfprune.training import starts, state


def run(config, callbacks=(), stopwatch=None, model_fn=None, data=None):
    """Runs (or resumes) every round of `config`; returns the metrics of each round.

    Rounds already complete in `config.workdir` are not trained again.

    Args:
        config: a `Config`, or a dict of its fields (needed with `model_fn` or `data`, whose
            names it gives as "model" and "dataset").
        callbacks: extra Keras callbacks for every round's `fit` (e.g. a step timer).
        stopwatch: a `core.clock.Stopwatch` that receives the time of each phase (setup, data, mask,
            start, fit, evaluate, analysis, save, summaries), for benchmarks.
        model_fn: your model: `model_fn(input_shape, num_classes, width=None, *, keras)`
            returns a new, unwrapped model (of config's Keras); registered as "model".
        data: your data: a `Data` (batched with config's batch size), or a loader
            `(batch_size, seed=, data_dir=, download=) -> Data`; registered as "dataset".

    Example (your model and data, the whole engine: resume, TensorBoard, report):
        run({"model": "mine", "dataset": "mine", "keras": "3", "method": "lrr",
             "workdir": "runs/mine"}, model_fn=build, data=my_data)
    """
    config = build.with_user_parts(config, model_fn, data)
    with _op_determinism(config.deterministic):
        return _run_on_this_worker(config, list(callbacks), stopwatch or clock.Stopwatch())


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
    strategy = distribute.make_strategy(config.strategy, config.cpu_devices, config.backend)
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


@dataclasses.dataclass
class RoundEnd:
    """A trained round as the next one needs it: its kernels and mask."""
    kernels: dict
    mask: Mask


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
    stopwatch: clock.Stopwatch
    clock: clock.RunClock
    strategy: object = None  # the tf.distribute strategy (None: the default one)
    rewind_kernels: dict = None  # the rewind point's kernels, once saved or read
    channels: object = None  # the model's ChannelMap under --structure=channel
    scorer: object = None  # the rewind point's scores under --pruning=snip or synflow
    results: list = dataclasses.field(default_factory=list)  # metrics of the rounds done

    def rewind_point_kernels(self):
        """The rewind point's kernels, read from the run directory the first time only."""
        if self.rewind_kernels is None:
            self.rewind_kernels = self.run_dir.rewind_kernels()
        return self.rewind_kernels


def _run(config, run_dir, strategy, callbacks, stopwatch):
    defaults = type(config)().to_dict()  # for runs written before a key existed
    retrain = config_changes.check(run_dir, config.to_dict(), defaults)
    done = run_dir.completed_rounds()
    for r in done:  # a kill between a round's metrics.json and this cleanup leaves its epochs
        files.remove_tree(run_dir.resume_dir(r))
    # read once; retraining a diverged round with other settings drops its resume folder
    resumed = None if retrain else run_dir.progress(len(done))
    # Multiworker: the workers' first collective. They must resume alike, or their collectives
    # (variables created, all-reduces) would differ and wait for each other forever.
    distribute.agree(strategy, "the run directory", ["completed_rounds", "resume_epoch"],
                     [len(done), resumed["epoch"] if resumed else -1])
    if len(done) > config.rounds:  # nothing to train: no data, no model
        return [run_dir.metrics(r) for r in range(config.rounds + 1)]
    with stopwatch("setup"):
        method = methods.get(config.method)
        build.check_backend(config)
        data = build.load_data(config, len(done))
        models.check_fits(config.model, data.input_shape, config.dataset)
        model = build.build_model(config, data, strategy)
        sources = experiments.sources(config, model)
        if config.pruning == "synflow" and not done:  # a model it cannot score: before any file
            scoring.check_synflow(model)
        one_run.check_updates(config, method, data)  # SET/RigL without an update: refused
        channels = experiments.channel_map(config, model)
        previous = rewind_kernels = None
        if done:
            logging.info("resuming %s after round %d", config.workdir, done[-1])
            state.restore_state(model, run_dir.source(run_dir.checkpoint_dir(done[-1])))
            # what later rounds need, read now: fails before any training
            previous = RoundEnd(run_dir.kernels(done[-1]), run_dir.mask(done[-1]))
            rewind_kernels = run_dir.rewind_kernels()
        results = [run_dir.metrics(r) for r in done]
        # Only once data, model, sources and state load; drops a diverged round's resume
        # folder if its settings changed, so it restarts.
        config_changes.write(run_dir, config.to_dict(), defaults, retrain)
        # Multiworker: a barrier; the others read on (the resume folder, which a diverged
        # round's new settings drop) once the chief has written this.
        distribute.agree(strategy, "the run directory", ["completed_rounds"], [len(done)])
        go_on = resume.resume_epoch(config, method, len(done), resumed)
        writer = tensorboard.open_writer(run_dir, done, len(done) * config.epochs + go_on)
    run_clock = clock.RunClock(resume.epochs_to_train(config, method, len(done), resumed))
    scorer = (scoring.RewindScorer(config, run_dir) if config.pruning in saliency.NAMES
              else None)
    context = RoundContext(config, method, run_dir, model, sources, writer, callbacks, stopwatch,
                           run_clock, strategy, rewind_kernels, channels, scorer, results)
    try:
        for r in range(len(done), config.rounds + 1):
            if r > len(done):
                with stopwatch("data"):
                    data = build.load_data(config, r)
            metrics, previous = train_round(context, r, data, previous,
                                            resumed if r == len(done) else None)
            results.append(metrics)
    finally:
        writer.close()
    return results


def train_round(context, r, data, previous, resumed=None):
    """Sets round `r`'s mask, starts the round (or restores its resume folder, `resumed` its
    progress.json), trains, evaluates and saves it; returns its metrics and its `RoundEnd`.

    Args:
        previous: the `RoundEnd` of round r - 1 (None for the dense round).
    """
    c = context
    config, run_dir, model = c.config, c.run_dir, c.model
    start = time.perf_counter()
    with c.stopwatch("mask"):
        mask = round_mask(c, r, previous)
        masked_model.set_masks(model, mask)
    # Multiworker: every worker starts (or resumes) the same round with the same mask
    distribute.agree(c.strategy, f"the start of round {r}", ["round", "epoch", "mask_checksum"],
                     [r, resume.resume_epoch(config, c.method, r, resumed),
                      distribute.checksum(mask)])
    initial_epoch = start_or_resume(c, r, data, previous, resumed)
    prefix = f"[round {r}/{config.rounds} density {mask.density:.4f}] "
    flips = cb.SignFlips(resumed["sign_flips_per_epoch"] if resumed else ())
    rewind_point = []  # the dense round saves the rewind point after its epoch (if not at 0)
    if r == 0 and config.rewind_epoch > initial_epoch:
        rewind_point = [cb.SaveRewindPoint(run_dir.rewind_dir, config.rewind_epoch)]
    eval_kwargs = {}
    if config.eval_every:
        eval_kwargs = dict(validation_data=data.test, validation_freq=config.eval_every)
    with c.stopwatch("fit"), _record_divergence(run_dir, r):
        history = model.fit(
            feed.stream(data, r, initial_epoch, config.epochs),
            steps_per_epoch=feed.steps_per_epoch(data, config.batch_size), epochs=config.epochs,
            initial_epoch=initial_epoch, verbose=0,
            callbacks=rewind_point + _fit_callbacks(c, r, data, flips, prefix), **eval_kwargs)
    if rewind_point:
        c.rewind_kernels = rewind_point[0].kernels
    last = {k: v[-1] for k, v in history.history.items()} or resumed["logs"]
    with c.stopwatch("evaluate"):
        test = model.evaluate(data.test, verbose=0, return_dict=True)
    kernels = masked_model.get_kernels(model)
    mask = masked_model.get_masks(model)  # a one-run method's mask moved as it trained
    with c.stopwatch("analysis"):
        metrics = _round_metrics(c, r, mask, test, last, flips.per_epoch) | analysis.round_analysis(
            kernels, mask, c.rewind_point_kernels(),
            (previous.kernels, previous.mask) if previous else None)
    metrics["seconds"] = time.perf_counter() - start
    with c.stopwatch("save"):
        run_dir.save_round(r, mask, kernels, metrics,
                           lambda folder: state.save_state(model, folder), c.results)
    with c.stopwatch("summaries"):
        tensorboard.write_round(c.writer, metrics, kernels, mask)
    left = c.clock.eta()
    logging.info("%stest_accuracy=%.4f test_loss=%.4f sign_flips_vs_rewind=%.4f (%.1fs)%s",
                 prefix, metrics["test_accuracy"], metrics["test_loss"],
                 metrics["sign_flips_vs_rewind"], metrics["seconds"],
                 f"; {r + 1} of {config.rounds + 1} rounds done, run ETA "
                 f"{clock.duration(left)}" if left is not None and r < config.rounds else "")
    return metrics, RoundEnd(kernels, mask)


def start_or_resume(context, r, data, previous, resumed):
    """Round `r`, its mask set, ready to train: started (`start_round`) with its starting state
    saved into its resume folder, or, if `resumed` (its progress.json), restored from that
    folder with the data order moved on to the epoch it names. Returns the first epoch to
    train."""
    c = context
    initial_epoch = resume.first_epoch(c.config, c.method, r)
    if resumed:  # killed mid-round: go on from its resume folder, as if never stopped
        logging.info("resuming round %d after epoch %d", r, resumed["epoch"])
        folder = c.run_dir.source(c.run_dir.resume_dir(r))
        state.restore_state(c.model, folder)
        saved = os.path.join(folder, rundir.MASK_NPZ)  # the masks then (older folders: none)
        masked_model.set_masks(c.model, Mask.load(saved) if os.path.exists(saved)
                               else masked_model.get_masks(c.model))  # JAX: the step's too
        go_on = resume.resume_epoch(c.config, c.method, r, resumed)
        feed.skip(data, go_on - initial_epoch)
        return go_on
    with c.stopwatch("start"), (c.strategy or tf.distribute.get_strategy()).scope():
        start_round(c, r, previous, data)
        monitors.save_resume_point(c.model, c.run_dir.resume_dir(r), initial_epoch)
    faults.stage(f"round_started:{os.path.basename(c.run_dir.round_dir(r))}")
    return initial_epoch


def _fit_callbacks(context, r, data, flips, prefix):
    """The callbacks of round `r`'s fit: the one-run method's mask updates, the experiment's,
    then the engine's, then the caller's."""
    c = context
    lr_flag = ("--finetune_lr" if r and c.method.lr_start == "continue"
               and not c.method.one_run else "--lr")
    return one_run.callbacks(c.config, c.method, r, data) + experiments.training_callbacks(
        c.config, r) + [
        monitors.StopIfDiverged(f"round {r} of {c.run_dir.root} (earlier rounds are intact): ",
                                lr_flag),
        cb.KeepMasks(), flips, console.Progress(prefix, c.clock),
        tensorboard.EpochSummaries(c.writer, r * c.config.epochs),
        monitors.EpochCheckpoint(c.run_dir.resume_dir(r), flips, c.config.checkpoint_every),
    ] + c.callbacks


def _round_metrics(context, r, mask, test, last, sign_flips_per_epoch):
    """metrics.json of round `r` before its analyses: mask, test and last epoch's numbers.
    `epochs_total`: the training epochs behind the round's network, its own and every earlier
    round's (a SNIP or SynFlow mask needs no training: IMP's rounds with it count their own and
    the epochs to the rewind point)."""
    epochs = context.config.epochs - resume.first_epoch(context.config, context.method, r)
    at_init = context.config.pruning in saliency.NAMES and context.method.weights == "rewind"
    earlier = context.config.rewind_epoch if at_init else sum(
        m["epochs"] for m in context.results[:r])
    return {
        "round": r,
        "method": context.config.method,
        "density": mask.density,
        "layer_density": mask.layer_densities(),
        "test_accuracy": float(test["accuracy"]),
        "test_loss": float(test["loss"]),
        "train_loss": float(last["loss"]),
        "train_accuracy": float(last["accuracy"]),
        "epochs": epochs,
        "epochs_total": epochs + earlier,
        "sign_flips_per_epoch": sign_flips_per_epoch,
    }


def round_mask(context, r, previous):
    """Round `r`'s mask: all ones for the dense round; else pruned from the previous round's
    trained kernels and mask, or transferred from --mask_from. A one-run method starts at its
    first mask and goes on with the mask its previous segment ended with."""
    if context.method.one_run:
        return previous.mask if r else one_run.first_mask(
            context.config, context.method, masked_model.get_kernels(context.model))
    if r == 0:
        return Mask.ones_like(masked_model.get_kernels(context.model))
    return experiments.round_mask(context.config, previous.kernels, previous.mask,
                                  context.sources, r, context.channels, context.scorer)


def start_round(context, r, previous, data):
    """Starts round `r` on the model, its mask set: the dense round restarts the schedule and
    saves the rewind point if it is epoch 0; a pruned round starts as its method says (IMP
    rewinds, LRR restarts the schedule), then as the experiment says (new random weights,
    BatchNorm rewind, signs)."""
    c = context
    if r == 0:
        starts.restart_schedule(c.model)
        if c.config.rewind_epoch == 0:
            c.rewind_kernels = starts.save_rewind_point(c.model, c.run_dir.rewind_dir, 0)
        return
    rewind_dir = c.run_dir.source(c.run_dir.rewind_dir)
    c.method.start(c.model, rewind_dir)
    if c.config.reinit:
        starts.reinitialize(c.model, build.fresh_model(c.config, data, r))
        masked_model.apply_masks(c.model)
    experiments.start(c.config, c.model, rewind_dir, r, previous.kernels,
                      c.rewind_point_kernels, c.sources)


@contextlib.contextmanager
def _record_divergence(run_dir, r):
    """Marks round `r` diverged in the run directory when `TrainingDiverged` passes through."""
    try:
        yield
    except monitors.TrainingDiverged as e:
        run_dir.mark_diverged(r, e.record())
        raise
