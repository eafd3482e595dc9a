"""Importing tfprune is light: TensorFlow loads only when a name that needs it is used."""
import subprocess
import sys

import pytest

import tfprune


def _loads_tensorflow(code):
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print('tensorflow' in sys.modules)"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()[-1] == "True"


@pytest.mark.slow
def test_a_name_that_needs_tensorflow_loads_it():
    assert _loads_tensorflow("import tfprune; tfprune.RoundSchedule")


def test_every_exported_name_resolves_and_unknown_names_fail():
    for name in tfprune.__all__:
        assert getattr(tfprune, name) is not None
    assert "wrap" in dir(tfprune)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tfprune.nope
