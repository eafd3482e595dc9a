"""Tests of the validated run configuration."""
import dataclasses

import pytest

from tfprune.engine.config import Config


def test_defaults_are_valid_and_name_the_workdir_after_the_method():
    assert Config().workdir == "runs/lrr"
    assert Config(method="imp").workdir == "runs/imp"


def test_round_trips_through_a_dict():
    config = Config(method="ft", ignore_layers=["fc"], width=0.5)
    assert Config.from_dict(config.to_dict()) == config


def test_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().lr = 1.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="wr"), "--method='wr' is not valid; valid: ft, gmp, imp, lrr, rigl, set"),
    (dict(schedule="linear"), "valid: step, cosine"),
    (dict(lr=0), "--lr must be positive"),
    (dict(batch_size=0), "--batch_size must be positive"),
    (dict(prune_fraction=0.0), "--prune_fraction must be in (0, 1)"),
    (dict(prune_fraction=1.0), "--prune_fraction must be in (0, 1)"),
    (dict(momentum=1.0), "--momentum must be in [0, 1)"),
    (dict(weight_decay=-1e-4), "--weight_decay must be >= 0"),
    (dict(width=0), "--width must be positive"),
    (dict(finetune_lr=-1), "--finetune_lr must be positive"),
    (dict(eval_every=-1), "--eval_every must be >= 0"),
])
def test_invalid_values_are_refused_with_the_flag_name(kwargs, message):
    with pytest.raises(ValueError) as error:
        Config(**kwargs)
    assert message in str(error.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="unknown config keys"):
        Config.from_dict({"methd": "lrr"})


def test_rewind_epoch_limits_bind_imp_only():
    Config(method="lrr", epochs=1)  # the default rewind point (epoch 1) is the round's end
    Config(method="ft", epochs=3, rewind_epoch=3, warmup_epochs=0)
    with pytest.raises(ValueError, match=r"--rewind_epoch must be in \[0, --epochs\)"):
        Config(method="imp", epochs=1)
    with pytest.raises(ValueError, match="after the warm-up"):
        Config(method="imp", epochs=5, rewind_epoch=2, warmup_epochs=1)
    with pytest.raises(ValueError, match=r"--rewind_epoch must be in \[0, --epochs\]"):
        Config(method="lrr", epochs=2, rewind_epoch=3)


def test_roles_are_declared_on_the_fields_and_derive_the_key_sets():
    from tfprune.engine import config as config_lib
    from tfprune.engine import config_changes as changes
    from tfprune.engine import grouping
    roles = {f.name: f.metadata["role"] for f in dataclasses.fields(Config)}
    assert set(roles.values()) <= set(config_lib.ROLES) | {None}
    assert changes.FREE_KEYS == config_lib.keys(config_lib.FREE)
    assert changes.RETRAIN_KEYS == config_lib.keys(config_lib.RETRAIN)
    assert set(grouping.NOT_GROUPED) == {"seed"} | set(changes.FREE_KEYS)
    assert {"workdir", "rounds", "data_dir", "strategy"} <= set(changes.FREE_KEYS)
    assert {"lr", "momentum", "weight_decay"} <= set(changes.RETRAIN_KEYS)
    assert not {"method", "model", "prune_fraction", "pruning"} & (
        set(changes.FREE_KEYS) | set(changes.RETRAIN_KEYS))


def test_defaults_are_the_registries_defaults():
    from tfprune.datasets import registry as datasets
    from tfprune.masking import kerases
    from tfprune.pruning import registry as pruning
    config = Config()
    assert (config.dataset, config.pruning, config.keras) == (
        datasets.DEFAULT, pruning.DEFAULT, kerases.KERAS2)


def test_a_model_that_cannot_take_the_data_is_named_with_the_models_that_can():
    from tfprune.models import registry as models
    assert models.fits("convnet", (40, 1)) and models.fits("resnet20", (32, 32, 3))
    assert models.fits("lenet300_100", (40, 1)) and not models.fits("resnet18", (40, 1))
    with pytest.raises(ValueError) as error:
        models.check_fits("vgg16", (40, 1), "mnist1d")
    assert str(error.value) == (
        "--model=vgg16 does not take --dataset=mnist1d's examples of shape (40, 1) (it takes "
        "rank 3); models that do: convnet, lenet300_100")
