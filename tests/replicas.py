"""A run in a fresh process (devices are split before the backend starts), reporting its test
losses, how many replicas each masked variable has and whether they all hold the same values;
for the tests of several devices on either Keras and any backend."""
import json
import os
import subprocess
import sys

WORKER = """
import json, sys
import numpy as np
from tfprune.engine import build, distribute, loop
from tfprune.engine.config import Config
from tfprune.masking import masked_model
config = Config(**json.loads(sys.argv[1]))
captured = {}
original = build.build_model
def build_model(*args, **kwargs):
    captured["model"] = original(*args, **kwargs)
    return captured["model"]
build.build_model = build_model
results = loop.run(config)

def replicas(variable):
    value = getattr(variable, "value", variable)
    if hasattr(value, "addressable_shards"):  # JAX: one shard per device
        return [np.asarray(s.data) for s in value.addressable_shards]
    if callable(value):  # a tf.Variable (tf_keras)
        value = variable
    return [np.asarray(v.numpy()) for v in getattr(value, "values", [value])]  # tf.distribute

same, counts = True, set()
for weight, mask in masked_model.pruning_vars(captured["model"]).values():
    for variable in (weight, mask):
        values = replicas(variable)
        counts.add(len(values))
        same &= all(np.array_equal(values[0], v) for v in values[1:])
late = ""  # one more device, asked for once the backend runs
try:
    distribute.make_strategy("mirrored", config.cpu_devices + 1, config.backend)
except ValueError as e:
    late = str(e)
print("RESULT " + json.dumps({"losses": [m["test_loss"] for m in results], "same": bool(same),
                              "replicas": sorted(counts), "late_devices": late}))
"""


def run_in_a_new_process(settings, env=None):
    """Runs the Config fields `settings` in a new process (KERAS_BACKEND from `env`, else
    unset); returns its report (see WORKER)."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | (env or {})
    result = subprocess.run([sys.executable, "-c", WORKER, json.dumps(settings)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])
