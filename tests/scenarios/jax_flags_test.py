"""Every experiment flag that touches weights in a callback or reads the model's graph also runs
on Keras 3's JAX backend (a file of its own: its JAX runs go on the other test worker)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfprune.core.rundir import RunDir

from conftest import ROOT, tiny_config

JAX_FLAGS = """
import json, sys
from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config
base = json.loads(sys.argv[1])
for name, flags in json.loads(sys.argv[2]).items():
    loop.run(Config(**base, **flags, workdir=f"{sys.argv[3]}/{name}"))
"""


@pytest.mark.slow
def test_the_experiment_flags_run_on_jax_with_exact_masks(tmp_path):
    """What touches weights in a callback (fixed signs each step, BN rewind, sign surgery) or
    reads the graph (channels) works on JAX too, masks exact (tiny runs, two flags each)."""
    base = tiny_config(keras="3", backend="jax", model="convnet")
    cases = {"fixed_signs": {"fixed_signs": True, "rewind_bn": True},
             "channel_own_signs": {"method": "imp", "signs": "trained",
                                   "structure": "channel"}}
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {
        "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", JAX_FLAGS, json.dumps(base),
                           json.dumps(cases), str(tmp_path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in cases:
        run = RunDir(tmp_path / name)
        mask, kernels, before = run.mask(1), run.kernels(1), run.kernels(0)
        assert all(not kernels[k][~mask[k]].any() for k in mask), name
        assert mask.density == pytest.approx(0.8, abs=0.01), name
        if name == "fixed_signs":  # LRR starts from round 0's weights; no sign flips after
            assert all(np.all(np.sign(kernels[k][mask[k]]) * np.sign(before[k][mask[k]]) >= 0)
                       for k in mask)
