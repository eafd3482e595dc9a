"""IMP, LRR and fine-tuning as one procedure with three settings.

After each pruning step a round restarts from: the pruned weights' source
(the rewind point or the trained weights), and the learning-rate schedule's
position (rewound with the optimizer, restarted at step 0, or continued past
the end of the round at the fine-tuning rate). The mask always comes from the
pruning strategy applied to the trained weights of the previous round.
"""
import dataclasses

from tfprune import callbacks as cb

WEIGHT_SOURCES = ("rewind", "trained")
SCHEDULE_STARTS = ("rewind", "restart", "continue")


@dataclasses.dataclass(frozen=True)
class Method:
    """How a pruned round starts.

    Attributes:
        name: registry name.
        weights: "rewind" (weights, biases, BN gamma/beta and optimizer state from
          the rewind point) or "trained" (keep the weights the last round ended with).
        schedule: "rewind" (the schedule resumes at the rewind point's step, restored
          with the optimizer), "restart" (fresh optimizer at step 0: the whole
          schedule, warm-up included, replays) or "continue" (keep counting past the
          end of the schedule: the fixed fine-tuning rate).
    """
    name: str
    weights: str
    schedule: str

    def __post_init__(self):
        if self.weights not in WEIGHT_SOURCES:
            raise ValueError(f"weights must be one of {WEIGHT_SOURCES}, got {self.weights!r}")
        if self.schedule not in SCHEDULE_STARTS:
            raise ValueError(f"schedule must be one of {SCHEDULE_STARTS}, got {self.schedule!r}")
        if (self.weights == "rewind") != (self.schedule == "rewind"):
            raise ValueError("the rewind point holds weights and optimizer together: "
                             "weights='rewind' goes with schedule='rewind' only")

    def initial_epoch(self, rewind_epoch):
        """The epoch a pruned round starts counting from (IMP resumes at the rewind point)."""
        return rewind_epoch if self.schedule == "rewind" else 0

    def callbacks(self, rewind_dir):
        """The callbacks that start a pruned round of this method."""
        if self.weights == "rewind":
            return [cb.RewindWeights(rewind_dir)]
        if self.schedule == "restart":
            return [cb.RestartSchedule()]
        return []


_METHODS = {
    "imp": Method("imp", weights="rewind", schedule="rewind"),
    "lrr": Method("lrr", weights="trained", schedule="restart"),
    "ft": Method("ft", weights="trained", schedule="continue"),
}


def names():
    return sorted(_METHODS)


def get(name):
    """Returns the `Method` registered as `name` ("imp", "lrr" or "ft")."""
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(names())}")
    return _METHODS[name]
