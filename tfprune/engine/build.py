"""What a run trains: its data per round, and its model, wrapped and compiled at its seeded
initialization; a user's own model and data registered under the config's names."""
import dataclasses

import numpy as np

from tfprune.datasets import registry as datasets
from tfprune.engine import distribute, feed, methods, one_run
from tfprune.engine.config import Config
from tfprune.masking import kerases, masked_model
from tfprune.masking.kerases import tf
from tfprune.models import registry as models
from tfprune.training import schedules


def load_data(config, r):
    """The data of round `r`: its own shuffle seed, so a resumed round sees the same order."""
    kerases.keras(config.keras).utils.set_random_seed(config.seed)  # tf.data's seeds combine
    return datasets.get(config.dataset, batch_size=config.batch_size, seed=config.seed * 1000 + r,
                        data_dir=config.data_dir, download=config.download)


def build_model(config, data, strategy=None):
    """The wrapped, compiled model at its seeded initialization, built in `strategy`'s scope."""
    with (strategy or tf.distribute.get_strategy()).scope():
        keras = kerases.keras(config.keras)
        previous = keras.mixed_precision.global_policy()
        try:
            return _build_model(config, data, keras)
        finally:  # layers keep the policy they were built with; the process gets its own back
            keras.mixed_precision.set_global_policy(previous)


def _build_model(config, data, keras):
    from tfprune.masking import keras3_constraints  # imports Keras 3
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
        config.lr, steps_per_epoch=feed.steps_per_epoch(data, config.batch_size),
        epochs=one_run.schedule_epochs(config, methods.get(config.method)),
        warmup_epochs=config.warmup_epochs, kind=config.schedule,
        finetune_lr=config.finetune_lr,
        drops=[e / config.epochs for e in config.lr_drop_epochs] or schedules.PAPER_DROPS)
    optimizer = keras.optimizers.SGD(schedule, momentum=config.momentum,
                                     weight_decay=config.weight_decay or None)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=_jit(config))
    if config.keras == kerases.KERAS3:
        _build_metrics(model, data)
        if config.backend == "jax":
            keras3_constraints.add_step_masks(model)  # no new trace when a round's masks change
    return model


def fresh_model(config, data, r):
    """--reinit: the run's model newly built and drawn at a seed of round `r`'s own (on the
    default device: only its values are read)."""
    seed = int(np.random.default_rng([config.seed, r, 2]).integers(2 ** 31))
    return build_model(dataclasses.replace(config, seed=seed), data)


def _build_metrics(model, data):
    """Keras 3: builds the loss and metrics now, from the data's shapes. Otherwise the first
    fit of the process builds them from a batch of a fresh dataset iterator, which draws one
    more shuffle: a resumed process would see another data order than the run it goes on."""
    x = np.zeros((1, *data.input_shape), np.float32)
    model._symbolic_build(data_batch=(x, np.zeros((1,), np.int64)))  # Keras' own, as fit does


def _jit(config):
    """compile()'s jit_compile: --jit_compile on TensorFlow; Keras' own choice elsewhere (JAX
    always compiles its step: without it a JAX step runs op by op, 16x slower)."""
    return config.jit_compile if config.backend == "tensorflow" else "auto"


def check_backend(config):
    """Raises a one-line error unless this process's Keras 3 runs on the run's backend (Keras
    reads KERAS_BACKEND once, when it is first imported)."""
    if config.keras != kerases.KERAS3:
        return
    running = kerases.keras(kerases.KERAS3).backend.backend()
    if running != config.backend:
        raise ValueError(f"--backend={config.backend}: this process's Keras 3 already runs on "
                         f"{running} (KERAS_BACKEND is read when keras is first imported); "
                         f"start a new process: tfprune train --backend={config.backend} ..., "
                         f"or KERAS_BACKEND={config.backend} before Python imports keras")


def with_user_parts(config, model_fn, data):
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
