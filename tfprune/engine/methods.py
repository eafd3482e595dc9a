"""The methods: IMP, LRR and fine-tuning prune between rounds; GMP, SET and RigL change the
mask during one training run.

IMP, LRR and FT: every pruned round gets its mask first (pruned from the previous round's
trained weights, or transferred with --mask_from); the method then says where the round
starts from: which weights (the rewind point's or the trained ones) and where in the
learning-rate schedule (back at the rewind point with the optimizer, restarted at step 0, or
continued past the end of the round at the fine-tuning rate).

GMP (gradual magnitude pruning), SET and RigL (dynamic sparse training) train once: one
learning-rate schedule over all (rounds + 1) x epochs, the rounds only the points where it
is measured and saved (where LRR's rounds end). Their masks change during training
(`training.mask_updates`): GMP prunes on a polynomial schedule down to --final_density; SET
and RigL start at that density and move connections (drop the smallest, grow at random or by
gradient).
"""
import dataclasses


WEIGHT_SOURCES = ("rewind", "trained")
LR_STARTS = ("rewind", "restart", "continue")
UPDATES = (None, "gradual", "set", "rigl")  # how a one-run method changes masks in training


@dataclasses.dataclass(frozen=True)
class Method:
    """How a pruned round starts.

    Attributes:
        name: registry name.
        weights: "rewind" (weights, biases, BN gamma/beta and optimizer state from
          the rewind point) or "trained" (keep the weights the last round ended with).
        lr_start: where the learning-rate schedule starts: "rewind" (at the rewind
          point's step, restored with the optimizer), "restart" (fresh optimizer at
          step 0: the whole schedule, warm-up included, replays) or "continue" (keep
          counting past the end of the schedule: the fixed fine-tuning rate).
        updates: None (the mask is fixed within a round), or how a one-run method changes
          it during training: "gradual" (GMP), "set" or "rigl".
    """
    name: str
    weights: str
    lr_start: str
    updates: str = None

    @property
    def one_run(self):
        """Whether the rounds are segments of one training run (GMP, SET, RigL)."""
        return self.updates is not None

    def __post_init__(self):
        if self.weights not in WEIGHT_SOURCES:
            raise ValueError(f"weights must be one of {WEIGHT_SOURCES}, got {self.weights!r}")
        if self.lr_start not in LR_STARTS:
            raise ValueError(f"lr_start must be one of {LR_STARTS}, got {self.lr_start!r}")
        if (self.weights == "rewind") != (self.lr_start == "rewind"):
            raise ValueError("the rewind point holds weights and optimizer together: "
                             "weights='rewind' goes with lr_start='rewind' only")
        if self.updates not in UPDATES:
            raise ValueError(f"updates must be one of {UPDATES}, got {self.updates!r}")
        if self.one_run and (self.weights, self.lr_start) != ("trained", "continue"):
            raise ValueError("a one-run method goes on training: weights='trained', "
                             "lr_start='continue'")

    def initial_epoch(self, rewind_epoch):
        """The epoch a pruned round starts counting from (IMP resumes at the rewind point)."""
        return rewind_epoch if self.lr_start == "rewind" else 0

    def start(self, model, rewind_dir):
        """Starts a pruned round of this method on `model`, whose mask is set: IMP rewinds to
        the rewind point saved in `rewind_dir`, LRR restarts the schedule, FT goes on."""
        from tfprune.training import starts  # TensorFlow: listing the methods needs none
        if self.weights == "rewind":
            starts.rewind_weights(model, rewind_dir)
        elif self.lr_start == "restart":
            starts.restart_schedule(model)


_METHODS = {
    "imp": Method("imp", weights="rewind", lr_start="rewind"),
    "lrr": Method("lrr", weights="trained", lr_start="restart"),
    "ft": Method("ft", weights="trained", lr_start="continue"),
    "gmp": Method("gmp", weights="trained", lr_start="continue", updates="gradual"),
    "set": Method("set", weights="trained", lr_start="continue", updates="set"),
    "rigl": Method("rigl", weights="trained", lr_start="continue", updates="rigl"),
}


def names():
    return sorted(_METHODS)


def get(name):
    """Returns the `Method` registered as `name` ("imp", "lrr", "ft", "gmp", "set", "rigl")."""
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(names())}")
    return _METHODS[name]
