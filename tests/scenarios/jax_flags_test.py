"""Every experiment flag that touches weights in a callback or reads the model's graph also runs
on Keras 3's JAX backend, and so do the methods that change masks during training and take
gradients (RigL, SynFlow, whose gradients are checked against closed forms there too): one
JAX process (a file of its own: it goes on the other test worker)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfprune.core.rundir import RunDir

from conftest import ROOT, tiny_config

sys.path.insert(0, os.path.join(ROOT, "tests", "training"))
import gradients_test  # noqa: E402

JAX_FLAGS = """
import json, sys
from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config
base = json.loads(sys.argv[1])
for name, flags in json.loads(sys.argv[2]).items():
    loop.run(Config(**base, **flags, workdir=f"{sys.argv[3]}/{name}"))
sys.path.insert(0, sys.argv[4])
import gradients_test
print("RESULT " + json.dumps(gradients_test.check("3")))
"""


@pytest.mark.slow
def test_the_experiment_flags_run_on_jax_with_exact_masks(tmp_path):
    """What touches weights in a callback (fixed signs each step, BN rewind, sign surgery) or
    reads the graph (channels) works on JAX too, masks exact (tiny runs, two flags each)."""
    base = tiny_config(keras="3", backend="jax", model="convnet")
    cases = {"fixed_signs": {"fixed_signs": True, "rewind_bn": True},
             "channel_own_signs": {"method": "imp", "signs": "trained",
                                   "structure": "channel"},
             "rigl": {"method": "rigl", "update_every": 8},
             "synflow": {"method": "imp", "pruning": "synflow"}}
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {
        "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", JAX_FLAGS, json.dumps(base),
                           json.dumps(cases), str(tmp_path),
                           os.path.join(ROOT, "tests", "training")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in cases:
        run = RunDir(tmp_path / name)
        mask, kernels, before = run.mask(1), run.kernels(1), run.kernels(0)
        assert all(not kernels[k][~mask[k]].any() for k in mask), name
        assert mask.density == pytest.approx(0.8, abs=0.01), name
        if name == "rigl":  # connections moved from the first mask (the rewind point's,
            # at initialization), every layer's count held
            first = {k: v != 0 for k, v in run.rewind_kernels().items()}
            assert any((first[k] != m).any() for k, m in mask.items())
            assert all(first[k].sum() == m.sum() for k, m in mask.items())
        if name == "synflow":
            assert mask.is_subset_of(run.mask(0))
        if name == "fixed_signs":  # LRR starts from round 0's weights; no sign flips after
            assert all(np.all(np.sign(kernels[k][mask[k]]) * np.sign(before[k][mask[k]]) >= 0)
                       for k in mask)
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    gradients_test.assert_checks(json.loads(line[len("RESULT "):]))
