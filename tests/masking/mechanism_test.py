"""One mask mechanism interface, two implementations: the same functions, the same arguments."""
import inspect

import pytest

from tfprune.masking import keras3_constraints, kerases, mechanism, tfmot_wrappers


def test_each_keras_has_its_mechanism():
    assert mechanism.for_keras("2") is tfmot_wrappers
    assert mechanism.for_keras("3") is keras3_constraints
    assert mechanism.for_model(kerases.keras("3").layers.Dense(1)) is keras3_constraints
    with pytest.raises(ValueError, match="unknown Keras '1'"):
        mechanism.for_keras("1")


@pytest.mark.parametrize("name", [n for n, v in vars(mechanism.Mechanism).items()
                                  if inspect.isfunction(v) and not n.startswith("_")])
def test_both_implement_every_function_of_the_interface_alike(name):
    wanted = list(inspect.signature(getattr(mechanism.Mechanism, name)).parameters)[1:]
    for module in (tfmot_wrappers, keras3_constraints):
        assert list(inspect.signature(getattr(module, name)).parameters) == wanted, module
