"""The README's "prune your own Keras model" example runs and does what it says."""
import os
import re

import numpy as np
import pytest

from conftest import ROOT


def example():
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("## Prune your own Keras model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_readme_example_prunes_a_user_model_with_lrr():
    code = example()
    assert len(code.strip().splitlines()) <= 20
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    sparse = scope["sparse"]
    kernels = [sparse.get_layer(n).kernel.numpy() for n in ("hidden", "out")]
    kept = sum(np.count_nonzero(k) for k in kernels) / sum(k.size for k in kernels)
    assert abs(kept - 0.8 ** 3) < 1e-3
    _, accuracy = scope["model"].evaluate(scope["data"].test, verbose=0)
    assert accuracy > 0.4  # an MLP on MNIST-1D; chance is 0.1
