"""--pruning=snip or synflow in a run: masks from the rewind point's scores, not from trained
weights (pruning at initialization with --rewind_epoch=0).

Every pruned round prunes the survivors of the round before by the rewind point's scores, so
round r's mask is what SNIP or SynFlow would give at density 0.8^r, and it never depends on
what the earlier rounds trained. The scores come from a second copy of the model restored to
the rewind point (built on first need, once per process). SNIP's are computed once, on the
first batch of the dense round's data, and saved in the run directory (`saliency.npz`) so a
resumed run prunes by the same numbers; SynFlow rescores under each mask it reaches (no data).
"""
import os

import numpy as np
from absl import logging

from tfprune.core import files
from tfprune.engine import build, feed
from tfprune.masking import masked_model
from tfprune.pruning import saliency
from tfprune.training import gradients, state


class RewindScorer:
    """The rewind point's SNIP scores or SynFlow scorer for the rounds of one run."""

    def __init__(self, config, run_dir):
        self.config, self.run_dir = config, run_dir
        self._data = self._model = self._snip = None

    def data(self):
        """The dense round's data (SNIP's batch is its first)."""
        if self._data is None:
            self._data = build.load_data(self.config, 0)
        return self._data

    def model(self):
        """The run's model at the rewind point (weights, BatchNorm, masks all ones)."""
        if self._model is None:
            self._model = build.build_model(self.config, self.data())
            state.restore_state(self._model, self.run_dir.source(self.run_dir.rewind_dir))
        return self._model

    def snip(self):
        """{kernel: |dL/dw * w|} at the rewind point, read from the run directory if saved."""
        if self._snip is None:
            path = self.run_dir.source(self.run_dir.saliency_path)
            if os.path.exists(path):
                self._snip = files.load_arrays(path)
            else:
                model = self.model()
                x, y = next(iter(feed.stream(self.data(), 0, 0, 1)))
                self._snip = saliency.snip_scores(gradients.loss_gradients(model, x, y),
                                                  masked_model.get_kernels(model))
                files.save_arrays(self.run_dir.saliency_path, self._snip)
                logging.info("SNIP: scored %d weights at the rewind point on one batch of %d",
                             sum(s.size for s in self._snip.values()), len(y))
        return self._snip

    def synflow(self, mask):
        """SynFlow's scores of the rewind point's model under `mask`."""
        model = self.model()
        masked_model.set_masks(model, mask)
        flow, grads = gradients.synflow_gradients(model)
        return saliency.synflow_scores(flow, grads, masked_model.get_kernels(model))


def check_synflow(model):
    """A one-line error, before a run writes anything, if SynFlow cannot score `model` (a
    layer its synaptic flow does not reach); the model's variables are left as they are."""
    flow, grads = gradients.synflow_gradients(model)
    saliency.synflow_scores(flow, grads, masked_model.get_kernels(model))


def round_mask(config, scorer, kernels, previous, r):
    """Pruned round `r`'s mask: `previous` (round r-1's) pruned by --prune_fraction by the
    rewind point's scores (`kernels`, the trained ones, only name the weights)."""
    rng = np.random.default_rng([config.seed, r])
    if config.pruning == "snip":
        return saliency.prune_snip(scorer.snip(), previous, config.prune_fraction, rng)
    return saliency.prune_synflow(kernels, previous, config.prune_fraction, rng,
                                  score=scorer.synflow)
