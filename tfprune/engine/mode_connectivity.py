"""Linear mode connectivity of a run's networks (`tfprune lmc`): the test error along the
straight path between two saved states, with BatchNorm's statistics recomputed at every
point, and Frankle et al.'s instability test (two copies trained from the rewind point on
other data orders).

The pairs of a run (`PAIRS`):
    consecutive  round r-1's trained network and round r's
    rewind       the rewind point and round r's trained network
    other        round r of this run and round r of another run of the same model (LRR's and
                 IMP's networks; with --mask_from, under the same mask)
    instability  round r's mask trained twice from the rewind point, on two other data
                 orders (IMP's round, as the method would train it)

A network is every weight of the model (kernels, biases, BatchNorm); the interpolated one
keeps the weights either end keeps (the union of the masks). Results go to
`<run>/lmc/lmc.json` and to TensorBoard (`<run>/lmc/`, tags lmc/<pair>_barrier per round).
"""
import dataclasses
import os

import numpy as np
from absl import logging

from tfprune.core import connectivity, files
from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir
from tfprune.engine import build, experiments, feed, methods
from tfprune.engine.config import Config
from tfprune.masking import masked_model
from tfprune.masking.kerases import tf
from tfprune.training import callbacks as cb
from tfprune.training import starts, state

PAIRS = ("consecutive", "rewind", "other", "instability")
LMC = "lmc"  # the run's folder of results
LMC_JSON = "lmc.json"


def read_run(path):
    """(Config, RunDir) of a finished run directory; a one-line error otherwise."""
    run = RunDir(path)
    if not run.is_run():
        raise ValueError(f"--run={path} is not a run directory (no config.json)")
    return Config.from_dict(run.read_config()), run


def check_same_model(config, other_config, flag, path):
    """A one-line error unless `other_config` (of `--flag=path`) has this run's model, built by
    the same Keras (their weights are interpolated name by name)."""
    differing = experiments.model_mismatch(config.to_dict(), other_config.to_dict(),
                                           experiments.MATCHING_KEYS + ("keras",))
    if differing:
        key, ours, theirs = differing
        raise ValueError(f"--{flag}={path} was run with --{key}={theirs!r}, --run has "
                         f"--{key}={ours!r}: linear mode connectivity compares networks of one "
                         "model")


class Path:
    """The model of a run, set to points of the path between two states."""

    def __init__(self, config, bn_batches):
        self.config = config
        self.data = build.load_data(config, 0)
        self.model = build.build_model(config, self.data)
        self.bn_batches = bn_batches
        self._weights = self.model.weights
        masks = {id(m) for _, m in masked_model.pruning_vars(self.model).values()}
        self._is_mask = [id(v) in masks for v in self._weights]

    def state_of(self, folder):
        """The model's weights (every variable of the model, masks too) saved in `folder`."""
        state.restore_state(self.model, folder)
        return self.weights()

    def weights(self):
        """The model's weights now (every variable of the model, masks too), copied."""
        return [np.asarray(v.numpy()).copy() for v in self._weights]

    def evaluate(self, first, second, alpha):
        """(test error, test loss) at `alpha` on the path from `first` to `second`."""
        point = connectivity.interpolate(first, second, alpha)
        for variable, value, a, b, is_mask in zip(self._weights, point, first, second,
                                                  self._is_mask):
            if is_mask:  # the weights either end keeps
                value = np.maximum(a, b)
            elif not np.issubdtype(np.asarray(a).dtype, np.floating):
                value = a  # counters (tfmot's step) are not on the path
            variable.assign(value)
        # tf_keras: the masks were interpolated with the weights (their union); a Keras 3
        # model's masks are not among its weights: every weight kept (the ends' pruned ones
        # are zero already), not the mask a trained copy left set
        masked_model.set_masks(self.model, masked_model.get_masks(self.model) if any(
            self._is_mask) else Mask.ones_like(masked_model.get_kernels(self.model)))
        self.recompute_batch_norm()
        test = self.model.evaluate(self.data.test, verbose=0, return_dict=True)
        return 1.0 - float(test["accuracy"]), float(test["loss"])

    def recompute_batch_norm(self):
        recompute_batch_norm(self.model, feed.stream(self.data, 0, 0, 1).take(self.bn_batches)
                             if self.bn_batches else ())

    def measure(self, first, second, n):
        """{"alphas", "test_error", "test_loss", "barrier", "loss_barrier"} of the path."""
        points = connectivity.alphas(n)
        errors, losses = zip(*(self.evaluate(first, second, float(a)) for a in points))
        return {"alphas": points.tolist(), "test_error": list(errors), "test_loss": list(losses),
                "barrier": connectivity.barrier(errors, points),
                "loss_barrier": connectivity.barrier(losses, points)}


def recompute_batch_norm(model, batches):
    """BatchNorm's running statistics set to the average over `batches` (of (x, y)) of the
    batch statistics of `model` as it is (a cumulative average: momentum k / (k + 1) at
    batch k), as SWA's and LMC's BatchNorm update do. No batches: left as they are."""
    layers = starts.batch_norm_layers(model)
    batches = list(batches)
    if not layers or not batches:
        return
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    try:
        for k, (x, _) in enumerate(batches):
            for layer in layers:
                layer.momentum = k / (k + 1)
            model(x, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def train_copy(config, run, path, r, data_seed):
    """Round `r`'s mask trained from the rewind point as IMP trains a round, on the data order
    of `data_seed`; returns the trained weights."""
    data = build.load_data(dataclasses.replace(config, seed=data_seed), r)
    model = path.model
    state.restore_state(model, run.rewind_dir)
    masked_model.set_masks(model, run.mask(r))
    model.fit(feed.stream(data, r, config.rewind_epoch, config.epochs),
              steps_per_epoch=feed.steps_per_epoch(data, config.batch_size),
              epochs=config.epochs, initial_epoch=config.rewind_epoch, verbose=0,
              callbacks=[cb.KeepMasks()])
    return path.weights()


def pairs(config, run, rounds, kinds, other=None):
    """[(kind, round, first state folder or ("train", seed), second)] to measure."""
    out = []
    for r in rounds:
        if "consecutive" in kinds and r >= 1:
            out.append(("consecutive", r, run.checkpoint_dir(r - 1), run.checkpoint_dir(r)))
        if "rewind" in kinds:
            out.append(("rewind", r, run.rewind_dir, run.checkpoint_dir(r)))
        if "other" in kinds and other is not None and r in other.completed_rounds():
            out.append(("other", r, run.checkpoint_dir(r), other.checkpoint_dir(r)))
        if "instability" in kinds:
            out.append(("instability", r, ("train", config.seed + 1),
                        ("train", config.seed + 2)))
    return out


def measure_run(path_arg, rounds=None, kinds=("consecutive", "rewind", "other"), other_arg=None,
                n=11, bn_batches=20):
    """Measures the pairs `kinds` of the run at `path_arg` for `rounds` (default: every
    completed round; "other" only with `other_arg`, "instability" only when asked: it
    trains); writes `<run>/lmc/lmc.json` and TensorBoard; returns the results."""
    config, run = read_run(path_arg)
    other = None
    if other_arg:
        other_config, other = read_run(other_arg)
        check_same_model(config, other_config, "other", other_arg)
    done = run.completed_rounds()
    rounds = done if rounds is None else list(rounds)
    missing = [r for r in rounds if r not in done]
    if missing:
        raise ValueError(f"--rounds: round(s) {missing} of --run={path_arg} are not complete; "
                         f"complete: {done}")
    if "instability" in kinds and methods.get(config.method).one_run:
        raise ValueError(f"--pairs=instability trains a round from the rewind point; "
                         f"--method={config.method} trains once and has no such rounds")
    if "other" in kinds and other is None:
        logging.info("lmc: no --other run given, so no 'other' pairs")
    build.check_backend(config)
    path = Path(config, bn_batches)
    out_dir = os.path.join(run.root, LMC)
    results = _read(out_dir)
    writer = None  # opened once a pair is measured: a failure before leaves no lmc/ folder
    for kind, r, first, second in pairs(config, run, rounds, kinds, other):
        ends = [train_copy(config, run, path, r, e[1]) if isinstance(e, tuple)
                else path.state_of(e) for e in (first, second)]
        measured = path.measure(*ends, n) | {"kind": kind, "round": r,
                                             "other": other.root if kind == "other" else None,
                                             "bn_batches": bn_batches}
        results = [x for x in results if (x["kind"], x["round"], x["other"])
                   != (kind, r, measured["other"])] + [measured]
        files.write_json(os.path.join(out_dir, LMC_JSON), {"pairs": results})
        writer = writer or tf.summary.create_file_writer(out_dir)
        with writer.as_default(step=r):
            tf.summary.scalar(f"lmc/{kind}_barrier", measured["barrier"])
        writer.flush()
        logging.info("round %d %s: error barrier %.4f (ends %.4f, %.4f)", r, kind,
                     measured["barrier"], measured["test_error"][0], measured["test_error"][-1])
    if writer:
        writer.close()
    return results


def _read(out_dir):
    path = os.path.join(out_dir, LMC_JSON)
    return files.read_json(path)["pairs"] if os.path.exists(path) else []
