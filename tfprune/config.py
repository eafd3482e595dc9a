"""The frozen, validated configuration of a pruning run; the launcher's flags mirror it."""
import dataclasses
from typing import Optional

from tfprune import backend, distribute, rewinding, schedules
from tfprune.datasets import registry as datasets
from tfprune.models import registry as models
from tfprune.pruning import registry as pruning


def _field(default, help_text, choices=None):
    return dataclasses.field(default=default, metadata={"help": help_text, "choices": choices})


def choices(field):
    """The valid values of a config field, or None when any value of its type goes."""
    valid = field.metadata.get("choices")
    return list(valid() if callable(valid) else valid) if valid else None


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that decides a run; written resolved to `<workdir>/config.json`."""

    method: str = _field("lrr", "How a pruned round restarts: lrr (keep trained weights, replay "
                         "the LR schedule), imp (rewind weights to the rewind point), ft "
                         "(keep weights, fixed small LR).", rewinding.names)
    model: str = _field("convnet", "Model architecture from the model registry.", models.names)
    width: Optional[float] = _field(None, "Model width: a multiplier for most models, the one "
                                    "uniform channel count for resnet18 (default: the standard "
                                    "model).")
    keras: str = _field(backend.KERAS2, "Keras to build and prune with: 2 (tf_keras; masks in "
                        "tfmot's wrappers) or 3 (Keras 3 on the TensorFlow backend; a mask per "
                        "weight, kept by a constraint).", backend.FLAVOURS)
    dataset: str = _field(datasets.DEFAULT, "Dataset from the dataset registry (mnist1d is "
                          "generated offline).", datasets.names)
    data_dir: Optional[str] = _field(None, "Folder of TFDS data or of tiny-imagenet-200.")
    download: bool = _field(True, "Let TFDS download a missing dataset into --data_dir.")
    rounds: int = _field(10, "Pruning rounds after the dense round 0 (density 0.8^rounds at "
                         "the default --prune_fraction).")
    epochs: int = _field(12, "Training epochs per round (the paper: 150).")
    warmup_epochs: int = _field(1, "Epochs of linear LR warm-up at the start of each round "
                                "(the paper: 10).")
    schedule: str = _field("step", "LR schedule of a round after warm-up: step (x0.1 at 70/150 "
                           "and 130/150 of the round) or cosine.", schedules.RoundSchedule.KINDS)
    lr: float = _field(0.1, "Peak learning rate of SGD.")
    lr_drop_epochs: tuple = _field((), "Epochs of a round at which --schedule=step multiplies "
                                   "the LR by 0.1 (default: the paper's 70 and 130 of 150, "
                                   "scaled to --epochs).")
    finetune_lr: Optional[float] = _field(None, "Fixed LR of --method=ft rounds (default: the "
                                          "schedule's final LR, lr/100 with two drops).")
    momentum: float = _field(0.9, "SGD momentum.")
    weight_decay: float = _field(5e-4, "Weight decay (decoupled, scaled by the LR).")
    batch_size: int = _field(128, "Global batch size.")
    prune_fraction: float = _field(0.2, "Fraction of the remaining weights pruned each round.")
    pruning: str = _field(pruning.DEFAULT, "Pruning strategy from the pruning registry.",
                          pruning.names)
    ignore_layers: tuple = _field((), "Conv/dense layer names never pruned (comma-separated).")
    rewind_epoch: int = _field(1, "IMP's rewind point: the state after this many epochs of the "
                               "dense round 0 (0 = initialization); at most --warmup_epochs.")
    late_rewind: bool = _field(False, "Allow a --rewind_epoch after the warm-up (Renda et al.'s "
                               "rewinding to epoch 12 of a schedule without warm-up).")
    mask_from: Optional[str] = _field(None, "Take each pruned round's mask from this run "
                                      "directory instead of pruning (e.g. IMP with LRR's masks).")
    signs: str = _field("keep", "Signs of the surviving weights when a pruned round starts: keep "
                        "(the method's own), trained (the previous round's trained signs: IMP "
                        "with its own signs), rewind (the rewind point's: LRR with initial "
                        "signs), source (--signs_from's at the same round).",
                        ("keep", "trained", "rewind", "source"))
    signs_from: Optional[str] = _field(None, "Run directory whose signs pruned rounds start with "
                                       "(needs --signs=source), e.g. IMP with LRR's signs.")
    shuffle_magnitudes: bool = _field(False, "With --signs: shuffle the surviving magnitudes "
                                      "within each layer first.")
    rewind_bn: bool = _field(False, "LRR with BN rewind: pruned rounds reset BatchNorm (gamma, "
                             "beta, running statistics) and optimizer slots to the rewind point.")
    perturb_signs: float = _field(0.0, "Every --perturb_every epochs flip each surviving "
                                  "weight's sign with this probability (0: off).")
    perturb_every: int = _field(30, "Epochs between sign perturbations (the paper: 30).")
    fixed_signs: bool = _field(False, "Fixed-sign training: after every step w <- |w| * sign(w "
                               "at the start of the round); no sign ever changes.")
    eval_every: int = _field(0, "Evaluate on the test set every N epochs (0: only at the end "
                             "of each round).")
    strategy: str = _field("default", "tf.distribute strategy: default (one device), mirrored "
                           "(all local GPUs, or the --cpu_devices), multiworker (TF_CONFIG).",
                           distribute.STRATEGIES)
    cpu_devices: int = _field(0, "Split the CPU into this many logical devices (to run the "
                              "distributed path without GPUs; 0: off).")
    mixed_precision: bool = _field(False, "Mixed precision: float16 compute on GPU, bfloat16 on "
                                   "CPU; variables and masks stay float32.")
    jit_compile: bool = _field(False, "Compile training steps with XLA (single device only: "
                               "tfmot's wrapper fails under XLA with a multi-device strategy).")
    checkpoint_every: int = _field(1, "Save the resume checkpoint every N epochs (a killed run "
                                   "loses at most N epochs; 0: only finished rounds).")
    deterministic: bool = _field(False, "Enable TensorFlow's op determinism (same seed, same "
                                 "bits on any run; needed on GPUs, costs speed; the process "
                                 "keeps it).")
    name: Optional[str] = _field(None, "A label for this run in reports (sweeps set it to the "
                                 "variant's name); runs that share it are averaged.")
    seed: int = _field(0, "Seed of the initialization, data order and random pruning.")
    workdir: Optional[str] = _field(None, "Run directory (default: runs/<method>).")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            valid = choices(f)
            if valid and getattr(self, f.name) not in valid:
                raise ValueError(f"--{f.name}={getattr(self, f.name)!r} is not valid; "
                                 f"valid: {', '.join(valid)}")
        for name in ("epochs", "batch_size", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        checks = [
            (self.rounds >= 0, "--rounds must be >= 0"),
            (0 < self.prune_fraction < 1, "--prune_fraction must be in (0, 1)"),
            (0 <= self.warmup_epochs <= self.epochs, "--warmup_epochs must be in [0, --epochs]"),
            (0 <= self.rewind_epoch < self.epochs, "--rewind_epoch must be in [0, --epochs)"),
            (self.rewind_epoch <= self.warmup_epochs or self.late_rewind,
             f"--rewind_epoch={self.rewind_epoch} is after the warm-up (--warmup_epochs="
             f"{self.warmup_epochs}); rewind within it, or pass --late_rewind to rewind later"),
            (self.checkpoint_every >= 0, "--checkpoint_every must be >= 0"),
            (0 <= self.momentum < 1, "--momentum must be in [0, 1)"),
            (self.weight_decay >= 0, "--weight_decay must be >= 0"),
            (self.eval_every >= 0, "--eval_every must be >= 0"),
            (self.width is None or self.width > 0, "--width must be positive"),
            (self.finetune_lr is None or self.finetune_lr > 0, "--finetune_lr must be positive"),
            ((self.signs == "source") == (self.signs_from is not None),
             "--signs=source and --signs_from go together"),
            (not self.shuffle_magnitudes or self.signs != "keep",
             "--shuffle_magnitudes needs --signs=trained, rewind or source"),
            (not self.rewind_bn or self.method != "imp",
             "--rewind_bn is for lrr and ft (imp rewinds BatchNorm gamma/beta, and keeps "
             "the running statistics as the paper does)"),
            (0 <= self.perturb_signs <= 1, "--perturb_signs must be in [0, 1]"),
            (self.cpu_devices >= 0, "--cpu_devices must be >= 0"),
            (not self.jit_compile or self.strategy == "default",
             "--jit_compile works only with --strategy=default: XLA cannot reach tfmot's "
             "per-replica variables under a multi-device strategy"),
            (self.perturb_every >= 1, "--perturb_every must be >= 1"),
            (self.keras == backend.KERAS2 or self.strategy == "default",
             "--keras=3 runs with --strategy=default only (tf.distribute is wired for "
             "tf_keras models)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        if self.workdir is None:
            object.__setattr__(self, "workdir", f"runs/{self.method}")
        object.__setattr__(self, "ignore_layers", tuple(self.ignore_layers))
        try:
            drops = tuple(int(e) for e in self.lr_drop_epochs)
        except ValueError:
            raise ValueError(f"--lr_drop_epochs must be integers, got {self.lr_drop_epochs}") from None
        if not all(0 < e < self.epochs for e in drops) or list(drops) != sorted(set(drops)):
            raise ValueError(f"--lr_drop_epochs must increase within (0, --epochs), got {drops}")
        object.__setattr__(self, "lr_drop_epochs", drops)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        if "late_rewind" not in values:  # a run written before the flag: it allowed any
            values = values | {"late_rewind": values.get("rewind_epoch", 1)
                               > values.get("warmup_epochs", 1)}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**values)
