"""Names resolved on first use: registries list what exists without importing it."""
import subprocess
import sys

import pytest

from tfprune.core import lazy


def test_a_spec_names_a_module_attribute_and_anything_else_is_itself():
    assert lazy.resolve("tfprune.core.mask:Mask.ones_like").__name__ == "ones_like"
    assert lazy.resolve("tfprune.core.lazy") is lazy
    assert lazy.resolve(len) is len
    with pytest.raises(AttributeError):
        lazy.resolve("tfprune.core.lazy:nothing")


def test_listing_the_registries_imports_no_model_or_loader():
    code = ("import sys\nfrom tfprune.models import registry as m\n"
            "from tfprune.datasets import registry as d\n"
            "assert 'resnet18' in m.names() and 'mnist1d' in d.names()\n"
            "print(sorted(k for k in sys.modules if k.startswith(('tensorflow', 'tfprune.models.',"
            " 'tfprune.datasets.')) and not k.endswith('registry')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip() == "[]"
