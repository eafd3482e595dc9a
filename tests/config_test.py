"""Tests of the validated run configuration."""
import dataclasses

import pytest

from tfprune.config import Config


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
    (dict(method="wr"), "--method='wr' is not valid; valid: ft, imp, lrr"),
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
