"""GMP, SET and RigL in the engine (`methods`: the one-run methods): the run's first mask,
its schedule of mask updates in optimizer steps, and the callback that applies it in each
round (a segment of the one training run)."""
import numpy as np

from tfprune.core.mask import Mask
from tfprune.engine import feed
from tfprune.pruning import gradual
from tfprune.pruning import registry as pruning
from tfprune.training import mask_updates


def first_mask(config, method, kernels):
    """Round 0's mask: dense for GMP; SET and RigL start at --final_density, random by
    --pruning's layer budget (ERK by default)."""
    ones = Mask.ones_like(kernels)
    if method.updates == "gradual" or config.final_density >= 1:
        return ones
    return pruning.get(config.pruning)(kernels, ones, 1 - config.final_density,
                                       np.random.default_rng([config.seed, 0, 4]))


def schedule_epochs(config, method):
    """Epochs of the learning-rate schedule: one round's, or a one-run method's whole run."""
    return config.epochs * (config.rounds + 1) if method.one_run else config.epochs


def gradual_schedule(config, steps_per_epoch):
    """GMP's `Gradual` in optimizer steps."""
    return gradual.Gradual(begin=config.update_start_epoch * steps_per_epoch,
                           end=config.update_end_epoch * steps_per_epoch,
                           every=config.update_every, initial=config.initial_density,
                           final=config.final_density)


def check_updates(config, method, data):
    """Refuses a SET or RigL run whose window holds no mask update (its first is `update_every`
    steps after the window opens): such a run would train its random mask silently."""
    if not method.one_run or method.updates == "gradual":
        return
    steps = feed.steps_per_epoch(data, config.batch_size)
    begin, end = config.update_start_epoch * steps, config.update_end_epoch * steps
    if begin + config.update_every >= end:
        raise ValueError(f"--update_every={config.update_every} leaves --method={config.method} "
                         f"no mask update between --update_start_epoch="
                         f"{config.update_start_epoch} and --update_end_epoch="
                         f"{config.update_end_epoch} ({end - begin} steps at {steps} an epoch): "
                         "lower --update_every or widen the window")


def callbacks(config, method, r, data):
    """The mask-update callback of round `r` of a one-run method ([] for the others)."""
    if not method.one_run:
        return []
    steps = feed.steps_per_epoch(data, config.batch_size)
    if method.updates == "gradual":
        return [mask_updates.GradualPruning(gradual_schedule(config, steps),
                                            pruning.get(config.pruning), seed=(config.seed, 3))]
    return [mask_updates.DynamicSparsity(
        method.updates, config.update_start_epoch * steps, config.update_end_epoch * steps,
        config.update_every, config.drop_fraction, seed=(config.seed, 4),
        batches=feed.stream(data, r, 0, config.epochs) if method.updates == "rigl" else None,
        first_step=r * config.epochs * steps)]
