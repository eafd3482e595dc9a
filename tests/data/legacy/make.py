"""Writes the legacy test data: run directories, saved wrapped models and an export, as a
release of tfprune wrote them, with what they must read back as (`expected.npz`,
`export.json`). tests/scenarios/legacy_test.py checks that today's code reads them the same.

Written by the tree before the packages moved (commit c9762a7); rerun only to add cases:

    python tests/data/legacy/make.py

It uses nothing but the public API and the train/export launchers, which do not change.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RUNS = {  # name: flags of the train launcher
    "imp_keras2": ["--method=imp", "--keras=2"],
    "lrr_keras3": ["--method=lrr", "--keras=3"],
}
COMMON = ["--model=lenet300_100", "--width=0.25", "--rounds=1", "--epochs=2",
          "--warmup_epochs=1", "--rewind_epoch=1"]
PROBE = np.random.default_rng(0).normal(size=(4, 40, 1)).astype("float32")


def train_runs():
    for name, flags in RUNS.items():
        workdir = os.path.join(HERE, name)
        shutil.rmtree(workdir, ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "launch", "train.py"), *COMMON,
                        *flags, f"--workdir={workdir}"], check=True)
        for events in [f for f in os.listdir(workdir) if f.startswith("events.")]:
            os.remove(os.path.join(workdir, events))  # TensorBoard's, large and not read back


def train_killed_run():
    """An LRR run killed after the first epoch of round 1: round_01/resume/ holds that epoch."""
    workdir = os.path.join(HERE, "lrr_keras2_killed")
    shutil.rmtree(workdir, ignore_errors=True)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "train.py"), *COMMON,
                           "--method=lrr", f"--workdir={workdir}"],
                          env=os.environ | {"TFPRUNE_KILL_AT": "epoch_checkpoint:round_01:1"})
    assert done.returncode != 0 and os.path.isdir(os.path.join(workdir, "round_01", "resume"))
    for events in [f for f in os.listdir(workdir) if f.startswith("events.")]:
        os.remove(os.path.join(workdir, events))


def export_run():
    out = os.path.join(HERE, "export_imp_keras2")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "launch", "export.py"),
                    f"--run={os.path.join(HERE, 'imp_keras2')}", f"--out={out}", "--round=1",
                    "--formats=keras,tflite", "--repeats=0"], check=True)
    shutil.move(os.path.join(out, "export.json"), os.path.join(HERE, "export.json"))
    shutil.rmtree(out)  # its artifacts are rebuilt by the test; export.json is what it holds


def model(keras):
    """Functional, a nested block, a depthwise conv and a layer left dense."""
    inner = keras.Sequential([keras.Input((20, 4)),
                              keras.layers.DepthwiseConv1D(3, name="dw"),
                              keras.layers.Conv1D(5, 1, name="pw")], name="block")
    inputs = keras.Input((40, 1))
    x = keras.layers.Conv1D(4, 3, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.Flatten()(inner(x))
    outputs = keras.layers.Dense(3, name="head")(keras.layers.Dense(8, name="fc")(x))
    return keras.Model(inputs, outputs)


def save_models():
    import tfprune
    # the module of each Keras (c9762a7 named it tfprune.backend)
    from tfprune.masking import kerases as backend
    expected = {"probe": PROBE}
    for flavour, files in (("2", ("model_keras2.h5", "model_keras2_savedmodel")),
                           ("3", ("model_keras3.keras",))):
        keras = backend.keras(flavour)
        keras.utils.set_random_seed(int(flavour))
        wrapped = tfprune.wrap(model(keras), ignore=["head"])
        tfprune.prune(wrapped, fraction=0.5)
        wrapped.compile(optimizer="sgd", loss="mse")
        for name in files:
            path = os.path.join(HERE, name)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else None
            if name.endswith("savedmodel"):
                wrapped.save(path, save_format="tf")
            else:
                wrapped.save(path)
        for key, value in tfprune.get_masks(wrapped).items():
            expected[f"keras{flavour}/mask/{key}"] = value
        expected[f"keras{flavour}/output"] = np.asarray(wrapped(PROBE))
    np.savez(os.path.join(HERE, "expected.npz"), **expected)


if __name__ == "__main__":
    train_runs()
    train_killed_run()
    export_run()
    save_models()
    with open(os.path.join(HERE, "written_by.json"), "w") as f:
        json.dump({"commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                            capture_output=True, text=True).stdout.strip()}, f)
