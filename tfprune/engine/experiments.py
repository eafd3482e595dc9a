"""The paper's experiments as additions to a round: transferred masks, sign surgery, BN rewind,
sign perturbation and fixed signs. Every variant composes with every method, except --rewind_bn
with IMP (which rewinds BatchNorm gamma and beta already)."""
import numpy as np
from absl import logging

from tfprune.core.rundir import RunDir
from tfprune.engine import scoring
from tfprune.masking import channel_graph, masked_model
from tfprune.pruning import registry as pruning
from tfprune.pruning import saliency
from tfprune.pruning import structures
from tfprune.training import callbacks as cb
from tfprune.training import starts

MATCHING_KEYS = ("model", "width", "dataset", "ignore_layers", "structure")


def model_mismatch(ours, theirs, keys=MATCHING_KEYS):
    """The first (key, our value, their value) of `keys` in which two configurations (dicts)
    build different models, or None (a list and a tuple of the same names are equal)."""
    for key in keys:
        if list(np.atleast_1d(theirs.get(key) or [])) != list(np.atleast_1d(ours.get(key) or [])):
            return key, ours.get(key), theirs.get(key)
    return None


def check_source(config, flag, path, kernels):
    """Returns the run directory `path` given by `--flag` if this run can use it, else raises.

    It must be a run directory of the same model and dataset, with at least as many
    completed rounds as this run has, whose masks have this model's weight names.
    """
    source = RunDir(path)
    if not source.is_run():
        raise ValueError(f"--{flag}={path} is not a run directory (no config.json)")
    theirs = type(config)().to_dict() | source.read_config()  # defaults: keys added since
    differing = model_mismatch(config.to_dict(), theirs)
    if differing:
        key, ours, other = differing
        raise ValueError(f"--{flag}={path} was run with --{key}={other!r}, "
                         f"this run has --{key}={ours!r}")
    completed = len(source.completed_rounds()) - 1
    if completed < config.rounds:
        raise ValueError(f"--{flag}={path} has {max(completed, 0)} completed pruned rounds; "
                         f"this run needs {config.rounds}")
    try:
        source.mask(min(1, config.rounds)).check_compatible(kernels)
    except ValueError as e:
        raise ValueError(f"--{flag}={path}: {e}") from None
    return source


def sources(config, model):
    """{"mask": RunDir or None, "signs": RunDir or None}, checked before any training."""
    kernels = masked_model.get_kernels(model)
    return {
        "mask": config.mask_from and check_source(config, "mask_from", config.mask_from, kernels),
        "signs": config.signs_from and check_source(config, "signs_from", config.signs_from,
                                                    kernels),
    }


def channel_map(config, model):
    """The model's channel map if --structure=channel (else None), after checking that the
    structure fits at least one of the model's kernels; a one-line error naming --structure
    otherwise, before anything is written."""
    structure = structures.parse(config.structure)
    if structure.kind == "unstructured":
        return None
    kernels = masked_model.get_kernels(model)
    channels = (channel_graph.build(model, config.ignore_layers)
                if structure.kind == "channel" else None)
    unfit = structures.unfit(structure, {k: v.shape for k, v in kernels.items()}, channels)
    if len(unfit) == len(kernels) and config.unfit_layers == "dense":
        key, why = next(iter(unfit.items()))
        raise ValueError(f"--structure={structure} fits none of the kernels of {model.name!r} "
                         f"({key}: {why}); use another --structure, or "
                         "--unfit_layers=unstructured")
    return channels


def round_mask(config, kernels, previous, sources, r, channels=None, scorer=None):
    """The mask of pruned round `r`: transferred from --mask_from, or pruned from the previous
    round's trained `kernels` and its mask `previous` (nothing is assigned to a model), or by
    the rewind point's scores (`scorer`, --pruning=snip or synflow); `channels`: the model's
    channel map for --structure=channel."""
    if sources["mask"]:
        return sources["mask"].mask(r)
    if config.pruning in saliency.NAMES:
        return scoring.round_mask(config, scorer, kernels, previous, r)
    structure = structures.parse(config.structure)
    if r == 1:
        for key, why in structures.unfit(structure, {k: v.shape for k, v in kernels.items()},
                                         channels).items():
            logging.info("--structure=%s cannot apply to %s (%s): %s", structure, key, why,
                         {"dense": "left dense",
                          "unstructured": "pruned unstructured"}[config.unfit_layers])
        for what, why in (channels.fixed.items() if channels else ()):
            logging.info("--structure=channel: the channels of %s stay whole (%s)", what, why)
    return structures.prune(pruning.get(config.pruning), structure, kernels, previous,
                            config.prune_fraction, np.random.default_rng([config.seed, r]),
                            randomly=config.pruning.startswith("random"), channels=channels,
                            unfit_rule=config.unfit_layers)


def start(config, model, rewind_dir, r, trained, rewind_kernels, sources):
    """Starts pruned round `r` after the method's start: rewinds BatchNorm to the rewind point
    in `rewind_dir` (--rewind_bn) and sets the signs (--signs) of the previous round's
    `trained` kernels, the rewind point's (`rewind_kernels()`, read only if needed) or the
    --signs_from run's."""
    if config.rewind_bn:
        starts.rewind_batch_norm(model, rewind_dir)
    if config.signs != "keep":
        signs_of = {"trained": lambda: trained, "rewind": rewind_kernels,
                    "source": lambda: sources["signs"].kernels(r - 1)}[config.signs]()
        shuffle = np.random.default_rng([config.seed, r, 1]) if config.shuffle_magnitudes else None
        starts.set_signs(model, signs_of, shuffle)


def training_callbacks(config, r):
    """Callbacks that act during the training of round `r` (every round, the dense one too)."""
    out = []
    if config.perturb_signs:
        out.append(cb.PerturbSigns(config.perturb_signs, config.perturb_every,
                                   seed=(config.seed, r, 2)))
    if config.fixed_signs:
        out.append(cb.FixSigns())
    return out
