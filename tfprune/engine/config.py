"""The frozen, validated configuration of a pruning run; the launcher's flags mirror it.

Each field declares its help, its valid values and its role. The roles say what may differ
between two configurations of one run directory:
    FREE       changes no completed round (where files are, how many rounds, how often to
               evaluate, where it computes): may differ whenever a run resumes;
    RETRAIN    only steers optimization: may change to retrain a round that diverged;
    REPLICATE  a repetition of the same experiment (the seed): reports average over it.
Importing this module loads no TensorFlow (reports read configs without it).
"""
import dataclasses
import os
from typing import Optional

from tfprune.core import lazy
from tfprune.pruning import structures

FREE, RETRAIN, REPLICATE = "free", "retrain", "replicate"
BACKENDS = ("tensorflow", "jax", "torch")
ROLES = (FREE, RETRAIN, REPLICATE)
# Topics that group the launchers' --help.
METHOD, MODEL, PRUNING, VARIANTS, RUN, COMPUTE = (
    "method, rounds and schedule", "model and data", "pruning", "the paper's variants",
    "run directory and evaluation", "computation")
TOPICS = (METHOD, MODEL, PRUNING, VARIANTS, RUN, COMPUTE)


def _field(default, help_text, choices=None, role=None, topic=None):
    """A config field. `choices`: a tuple, or "module:attribute" naming a tuple or a function
    that returns one (read when first needed, so registries load late)."""
    assert role in ROLES + (None,)
    return dataclasses.field(default=default, metadata={
        "help": help_text, "choices": choices, "role": role, "topic": topic})


def choices(field):
    """The valid values of a config field, or None when any value of its type goes."""
    valid = lazy.resolve(field.metadata.get("choices"))
    return list(valid() if callable(valid) else valid) if valid else None


def keys(role):
    """The names of the Config fields that have `role` (FREE, RETRAIN or REPLICATE)."""
    return tuple(f.name for f in dataclasses.fields(Config) if f.metadata["role"] == role)


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that decides a run; written resolved to `<workdir>/config.json`."""

    method: str = _field("lrr", "How a pruned round restarts: lrr (keep trained weights, replay "
                         "the LR schedule), imp (rewind weights to the rewind point), ft "
                         "(keep weights, fixed small LR); or one training run whose mask "
                         "changes as it trains, measured where LRR's rounds end: gmp (gradual "
                         "magnitude pruning), set or rigl (dynamic sparse training at "
                         "--final_density).", "tfprune.engine.methods:names",
                         topic=METHOD)
    model: str = _field("convnet", "Model architecture from the model registry.",
                        "tfprune.models.registry:names", topic=MODEL)
    width: Optional[float] = _field(None, "Model width: a multiplier for most models, the one "
                                    "uniform channel count for resnet18 (default: the standard "
                                    "model).", topic=MODEL)
    keras: str = _field("2", "Keras to build and prune with: 2 (tf_keras; masks in "
                        "tfmot's wrappers) or 3 (Keras 3, on --backend; a mask per weight, "
                        "kept by a constraint).", "tfprune.masking.kerases:FLAVOURS",
                        topic=MODEL)
    backend: Optional[str] = _field(None, "Keras 3's backend: tensorflow, jax or torch (default: "
                                    "KERAS_BACKEND, else tensorflow; the flag wins). The run "
                                    "directory records it; a run resumes on its own backend.",
                                    topic=COMPUTE)
    dataset: str = _field("mnist1d", "Dataset from the dataset registry (mnist1d is "
                          "generated offline).", "tfprune.datasets.registry:names", topic=MODEL)
    data_dir: Optional[str] = _field(None, "Folder of TFDS data or of tiny-imagenet-200.",
                                     role=FREE, topic=MODEL)
    download: bool = _field(True, "Let TFDS download a missing dataset into --data_dir.",
                            role=FREE, topic=MODEL)
    rounds: int = _field(10, "Pruning rounds after the dense round 0 (density 0.8^rounds at "
                         "the default --prune_fraction).", role=FREE, topic=METHOD)
    epochs: int = _field(12, "Training epochs per round (the paper: 150).", topic=METHOD)
    warmup_epochs: int = _field(1, "Epochs of linear LR warm-up at the start of each round "
                                "(the paper: 10).", role=RETRAIN, topic=METHOD)
    schedule: str = _field("step", "LR schedule of a round after warm-up: step (x0.1 at 70/150 "
                           "and 130/150 of the round) or cosine.",
                           ("step", "cosine"), role=RETRAIN, topic=METHOD)
    lr: float = _field(0.1, "Peak learning rate of SGD.", role=RETRAIN, topic=METHOD)
    lr_drop_epochs: tuple = _field((), "Epochs of a round at which --schedule=step multiplies "
                                   "the LR by 0.1 (default: the paper's 70 and 130 of 150, "
                                   "scaled to --epochs).", role=RETRAIN, topic=METHOD)
    finetune_lr: Optional[float] = _field(None, "Fixed LR of --method=ft rounds (default: the "
                                          "schedule's final LR, lr/100 with two drops).",
                                          role=RETRAIN, topic=METHOD)
    momentum: float = _field(0.9, "SGD momentum.", role=RETRAIN, topic=METHOD)
    weight_decay: float = _field(5e-4, "Weight decay (decoupled, scaled by the LR).",
                                 role=RETRAIN, topic=METHOD)
    batch_size: int = _field(128, "Global batch size.", topic=METHOD)
    prune_fraction: float = _field(0.2, "Fraction of the remaining weights pruned each round.",
                                   topic=PRUNING)
    pruning: str = _field("global_magnitude", "Pruning strategy from the pruning registry.",
                          "tfprune.pruning.registry:names", topic=PRUNING)
    budget: Optional[str] = _field(None, "How magnitude or random pruning spreads the removed "
                                   "weights over layers: global (one threshold), uniform (the "
                                   "same fraction of each layer) or erk (Erdos-Renyi-Kernel "
                                   "densities); sets --pruning to that rule's strategy, which "
                                   "config.json records.", topic=PRUNING)
    final_density: Optional[float] = _field(None, "gmp, set, rigl: the density the run ends at "
                                            "(default: (1 - --prune_fraction)^--rounds, LRR's "
                                            "last round).", topic=PRUNING)
    initial_density: float = _field(1.0, "gmp: the density its first update prunes to (tfmot's "
                                    "1 - initial_sparsity).", topic=PRUNING)
    update_every: int = _field(100, "gmp, set, rigl: optimizer steps between mask updates "
                               "(tfmot's frequency; RigL's delta T).", topic=PRUNING)
    update_start_epoch: Optional[int] = _field(None, "gmp, set, rigl: the epoch of the whole run "
                                               "(counted over its rounds from 0) at which mask "
                                               "updates begin (default: gmp --epochs, after "
                                               "the dense round; set, rigl 0).", topic=PRUNING)
    update_end_epoch: Optional[int] = _field(None, "gmp, set, rigl: the epoch of the whole run "
                                             "at which mask updates end (gmp reaches "
                                             "--final_density there; default: gmp --rounds x "
                                             "--epochs, so the last round trains at it; set, "
                                             "rigl 3/4 of the run, as RigL).", topic=PRUNING)
    drop_fraction: float = _field(0.3, "set, rigl: the fraction of each layer's connections "
                                  "moved at the first update, decaying to 0 by a cosine.",
                                  topic=PRUNING)
    ignore_layers: tuple = _field((), "Conv/dense layer names never pruned (comma-separated).",
                                  topic=PRUNING)
    structure: str = _field("unstructured", "Which weights are pruned together: unstructured, "
                            "block:RxC (R outputs x C consecutive inputs; block:1x4 is what "
                            "LiteRT's sparse kernel runs), nm:N:M (at most N of M "
                            "consecutive inputs; 2:4 for GPU sparse tensor cores) or channel "
                            "(whole channels with the weights coupled to them; the export "
                            "writes the smaller dense model).", topic=PRUNING)
    unfit_layers: str = _field("dense", "Kernels --structure cannot divide: dense (left as "
                               "they are) or unstructured (pruned weight by weight).",
                               "tfprune.pruning.structures:UNFIT_RULES", topic=PRUNING)
    rewind_epoch: int = _field(1, "The rewind point: the state after this many epochs of the "
                               "dense round 0 (0 = initialization). IMP restarts its pruned "
                               "rounds there (at most --warmup_epochs, unless --late_rewind); "
                               "every method measures sign flips and distances against it, "
                               "and --signs=rewind and --rewind_bn read it.",
                               topic=METHOD)
    late_rewind: bool = _field(False, "Allow a --rewind_epoch after the warm-up (Renda et al.'s "
                               "rewinding to epoch 12 of a schedule without warm-up).",
                               role=FREE, topic=METHOD)
    mask_from: Optional[str] = _field(None, "Take each pruned round's mask from this run "
                                      "directory instead of pruning (e.g. IMP with LRR's masks).",
                                      topic=VARIANTS)
    signs: str = _field("keep", "Signs of the surviving weights when a pruned round starts: keep "
                        "(the method's own), trained (the previous round's trained signs: IMP "
                        "with its own signs), rewind (the rewind point's: LRR with initial "
                        "signs), source (--signs_from's at the same round).",
                        ("keep", "trained", "rewind", "source"), topic=VARIANTS)
    signs_from: Optional[str] = _field(None, "Run directory whose signs pruned rounds start with "
                                       "(needs --signs=source), e.g. IMP with LRR's signs.",
                                       topic=VARIANTS)
    shuffle_magnitudes: bool = _field(False, "With --signs: shuffle the surviving magnitudes "
                                      "within each layer first.", topic=VARIANTS)
    reinit: bool = _field(False, "Random reinitialization: each pruned round trains its mask "
                          "from newly drawn weights (the model's initializers, a seed per "
                          "round); the method still sets the schedule and the mask comes from "
                          "the previous round's trained weights.", topic=VARIANTS)
    rewind_bn: bool = _field(False, "LRR or FT with BN rewind: pruned rounds reset BatchNorm (gamma, "
                             "beta, running statistics) and optimizer slots to the rewind point.",
                             topic=VARIANTS)
    perturb_signs: float = _field(0.0, "Every --perturb_every epochs (never after a round's "
                                  "last) flip each surviving weight's sign with this "
                                  "probability (0: off).", topic=VARIANTS)
    perturb_every: int = _field(30, "Epochs between sign perturbations (the paper: 30).",
                                topic=VARIANTS)
    fixed_signs: bool = _field(False, "Fixed-sign training: after every step w <- |w| * sign(w "
                               "at the start of the round); no sign ever changes.", topic=VARIANTS)
    eval_every: int = _field(0, "Evaluate on the test set every N epochs (0: only at the end "
                             "of each round).", role=FREE, topic=RUN)
    strategy: str = _field("default", "Devices of one run: default (one device), mirrored "
                           "(all local GPUs, or the --cpu_devices: tf.distribute on TensorFlow, "
                           "keras.distribution.DataParallel on JAX), multiworker (TF_CONFIG; "
                           "tf_keras only).",
                           "tfprune.engine.distribute:STRATEGIES", role=FREE, topic=COMPUTE)
    cpu_devices: int = _field(0, "Split the CPU into this many logical devices (to run the "
                              "distributed path without GPUs; 0: off).", role=FREE, topic=COMPUTE)
    mixed_precision: bool = _field(False, "Mixed precision: float16 compute on GPU, bfloat16 on "
                                   "CPU; variables and masks stay float32.", topic=COMPUTE)
    jit_compile: bool = _field(False, "Compile training steps with XLA (single device only: "
                               "tfmot's wrapper fails under XLA with a multi-device strategy).",
                               role=FREE, topic=COMPUTE)
    checkpoint_every: int = _field(1, "Save the resume checkpoint every N epochs (a killed run "
                                   "loses at most N epochs; 0: only each round's start and end).",
                                   role=FREE, topic=RUN)
    deterministic: bool = _field(False, "Enable TensorFlow's op determinism (same seed, same "
                                 "bits on any run; needed on GPUs, costs speed; the process "
                                 "keeps it).", topic=COMPUTE)
    name: Optional[str] = _field(None, "A label for this run in reports (sweeps set it to the "
                                 "variant's name); runs that share it are averaged.",
                                 role=FREE, topic=RUN)
    seed: int = _field(0, "Seed of the initialization, data order and random pruning.",
                       role=REPLICATE, topic=MODEL)
    workdir: Optional[str] = _field(None, "Run directory (default: runs/<method>).",
                                    role=FREE, topic=RUN)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            valid = choices(f)
            if valid and getattr(self, f.name) not in valid:
                raise ValueError(f"--{f.name}={getattr(self, f.name)!r} is not valid; "
                                 f"valid: {', '.join(valid)}")
        structures.parse(self.structure)  # a one-line error naming --structure
        for name in ("epochs", "batch_size", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        checks = [
            (self.rounds >= 0, "--rounds must be >= 0"),
            (0 < self.prune_fraction < 1, "--prune_fraction must be in (0, 1)"),
            (0 <= self.warmup_epochs <= self.epochs, "--warmup_epochs must be in [0, --epochs]"),
            # IMP trains pruned rounds from its rewind point on; other methods only read the
            # rewind point (analyses, --signs=rewind, --rewind_bn), saved at most at the end.
            (0 <= self.rewind_epoch < self.epochs if self.method == "imp"
             else 0 <= self.rewind_epoch <= self.epochs,
             "--rewind_epoch must be in [0, --epochs)" if self.method == "imp"
             else "--rewind_epoch must be in [0, --epochs]"),
            (self.method != "imp" or self.rewind_epoch <= self.warmup_epochs or self.late_rewind,
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
            (not self.reinit or self.method != "ft",
             "--reinit trains a round from new random weights, which --method=ft's small fixed "
             "rate cannot: use --method=imp or lrr"),
            (self.cpu_devices >= 0, "--cpu_devices must be >= 0"),
            (not self.jit_compile or self.strategy == "default",
             "--jit_compile works only with --strategy=default: XLA cannot reach tfmot's "
             "per-replica variables under a multi-device strategy"),
            (self.perturb_every >= 1, "--perturb_every must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        if self.workdir is None:
            object.__setattr__(self, "workdir", f"runs/{self.method}")
        object.__setattr__(self, "backend", _backend(self.keras, self.backend))
        self._check_methods()
        if self.budget is not None:  # an alias of a --pruning strategy: recorded as that
            from tfprune.pruning import registry
            object.__setattr__(self, "pruning", registry.with_budget(self.pruning, self.budget))
            object.__setattr__(self, "budget", None)
        if self.keras == "3" and self.strategy == "multiworker":
            raise ValueError("--strategy=multiworker runs with --keras=2 only: Keras 3's trainer "
                             "fails under MultiWorkerMirroredStrategy (Keras 3.15), and "
                             "tfprune has no keras.distribution multiworker launcher for JAX")
        if self.backend == "torch" and (self.strategy == "mirrored" or self.cpu_devices):
            flag = "strategy=mirrored" if self.strategy == "mirrored" else "cpu_devices"
            raise ValueError(f"--{flag} runs on --backend=tensorflow or jax, not torch")
        object.__setattr__(self, "ignore_layers", tuple(self.ignore_layers))
        try:
            drops = tuple(int(e) for e in self.lr_drop_epochs)
        except ValueError:
            raise ValueError(f"--lr_drop_epochs must be integers, got {self.lr_drop_epochs}") from None
        if not all(0 < e < self.epochs for e in drops) or list(drops) != sorted(set(drops)):
            raise ValueError(f"--lr_drop_epochs must increase within (0, --epochs), got {drops}")
        object.__setattr__(self, "lr_drop_epochs", drops)

    def _check_methods(self):
        """The one-run methods' settings resolved and checked, and what needs gradients."""
        from tfprune.engine import methods
        from tfprune.pruning import dynamic, registry, saliency
        method = methods.get(self.method)
        needs_gradients = self.method == "rigl" or self.pruning in saliency.NAMES
        if needs_gradients and self.backend == "torch":
            what = "--method=rigl" if self.method == "rigl" else f"--pruning={self.pruning}"
            raise ValueError(f"{what} needs gradients, computed on --backend=tensorflow or jax, "
                             "not torch")
        if self.pruning in saliency.NAMES and self.structure != "unstructured":
            raise ValueError(f"--pruning={self.pruning} prunes weight by weight: it takes "
                             "--structure=unstructured only")
        values, defaults = self.to_dict(), {f.name: f.default for f in dataclasses.fields(self)}
        one_run = [m for m in methods.names() if methods.get(m).one_run]
        owners = dict.fromkeys(("final_density", "update_every", "update_start_epoch",
                                "update_end_epoch"), one_run) | {
            "initial_density": [m for m in one_run if methods.get(m).updates == "gradual"],
            "drop_fraction": [m for m in one_run if methods.get(m).updates in dynamic.GROWTH]}
        for key, owner in owners.items():
            if values[key] != defaults[key] and self.method not in owner:
                raise ValueError(f"--{key} is for --method={_either(owner)}, not "
                                 f"--method={self.method}")
        if not method.one_run:
            return
        fixed = [f"--{k}" for k, v in (("mask_from", None), ("signs", "keep"), ("reinit", False),
                                        ("rewind_bn", False), ("fixed_signs", False),
                                        ("structure", "unstructured")) if values[k] != v]
        if fixed or self.pruning in saliency.NAMES:
            raise ValueError(f"--method={self.method} changes its mask as it trains: it takes no "
                             f"{', '.join(fixed) or '--pruning=' + self.pruning} (round "
                             "restarts, transferred masks and structures are for lrr, imp, ft)")
        if self.method == "rigl" and self.strategy != "default":
            raise ValueError("--method=rigl takes its gradients on one device: use "
                             "--strategy=default")
        if method.updates in dynamic.GROWTH:  # a random initial mask, ERK unless told
            if self.pruning == registry.DEFAULT:
                object.__setattr__(self, "pruning", "random_erk")
            if not self.pruning.startswith("random_"):
                raise ValueError(f"--method={self.method} starts from a random mask: --pruning "
                                 "must be random_erk (default), random_uniform, random_global "
                                 f"or random_balanced, got {self.pruning}")
        run = (self.rounds + 1) * self.epochs
        final = (1 - self.prune_fraction) ** self.rounds if self.final_density is None \
            else self.final_density
        gradual = method.updates == "gradual"
        start = self.update_start_epoch
        if start is None:
            start = min(self.epochs, run - 1) if gradual else 0
        end = self.update_end_epoch
        if end is None:
            end = max(start, self.rounds * self.epochs) if gradual else max(start, run * 3 // 4)
        checks = [
            (0 < final <= 1, f"--final_density must be in (0, 1], got {final}"),
            (0 < self.initial_density <= 1 and final <= self.initial_density,
             f"--initial_density must be in [--final_density, 1], got {self.initial_density}"),
            (self.update_every >= 1, "--update_every must be >= 1"),
            (0 < self.drop_fraction < 1,
             f"--drop_fraction must be in (0, 1), got {self.drop_fraction}"),
            (0 <= start, f"--update_start_epoch must be >= 0, got {start}"),
            (start <= end, f"--update_end_epoch={end} comes before --update_start_epoch={start}"),
            (end < run if gradual else end <= run,
             f"--update_end_epoch={end} is beyond the run's {run} epochs ((--rounds + 1) x "
             "--epochs)" + ("; gmp prunes before a step, so it ends before the last epoch"
                            if gradual else "")),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        object.__setattr__(self, "final_density", float(final))
        object.__setattr__(self, "update_start_epoch", int(start))
        object.__setattr__(self, "update_end_epoch", int(end))

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


def _either(names):
    """ "a, b or c" """
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _backend(keras, backend):
    """The backend a run computes on: --backend, else KERAS_BACKEND for Keras 3, else
    tensorflow; a one-line error for a backend tf_keras or Keras cannot run."""
    if keras == "2":
        if backend not in (None, "tensorflow"):
            raise ValueError(f"--backend={backend} is for --keras=3 (tf_keras runs on "
                             "TensorFlow only)")
        return "tensorflow"
    chosen = backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    if chosen not in BACKENDS:
        source = "--backend" if backend else "KERAS_BACKEND"
        raise ValueError(f"{source}={chosen} is not a Keras 3 backend tfprune runs on; valid: "
                         f"{', '.join(BACKENDS)}")
    return chosen
