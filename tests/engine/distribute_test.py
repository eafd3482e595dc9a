"""The distributed path on 2 logical CPU devices, XLA and mixed precision, with masks."""
import numpy as np
import pytest

import tfprune
from tfprune.engine import build, distribute, loop
from tfprune.masking import masked_model
from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tf
from tfprune.training import callbacks as cb

keras = _keras("2")
from tfprune.core.rundir import RunDir
from tfprune.engine.config import Config

import replicas
from compare import ALL_REDUCE, assert_same_run
from conftest import tiny_config
from tiny import compiled, data


def settings(workdir, **overrides):
    return tiny_config(epochs=2, warmup_epochs=1, rewind_epoch=1, method="imp",
                       workdir=str(workdir)) | overrides


def run_in_a_new_process(workdir, **overrides):
    return replicas.run_in_a_new_process(settings(workdir, **overrides))


@pytest.fixture(scope="module")
def imp_runs(tmp_path_factory):
    """The same IMP run on one device (in this process) and mirrored on 2 logical CPU devices
    (in a new one: logical devices must be set before TensorFlow starts)."""
    root = tmp_path_factory.mktemp("distribute")
    mirrored = run_in_a_new_process(root / "mirrored", strategy="mirrored", cpu_devices=2)
    loop.run(Config(**settings(root / "single")))
    return root, mirrored


@pytest.mark.slow
def test_mirrored_on_two_cpu_devices_matches_one_device(imp_runs):
    root, mirrored = imp_runs
    assert mirrored["replicas"] == [2] and mirrored["same"]
    # all-reduced gradients: within the drift of another summation order
    assert_same_run(RunDir(root / "mirrored"), RunDir(root / "single"), ALL_REDUCE)


@pytest.mark.slow
def test_a_mirrored_run_resumes_from_its_checkpoints(imp_runs):
    root, mirrored = imp_runs
    extended = run_in_a_new_process(root / "mirrored", strategy="mirrored", cpu_devices=2,
                                    rounds=2)
    assert len(extended["losses"]) == 3 and extended["same"]
    assert extended["losses"][:2] == mirrored["losses"]  # completed rounds were kept
    assert RunDir(root / "mirrored").mask(2).is_subset_of(RunDir(root / "mirrored").mask(1))


def test_cpu_devices_after_tensorflow_started_is_a_clear_error():
    assert len(tf.config.list_logical_devices("CPU")) == 1  # starts TensorFlow's devices
    with pytest.raises(ValueError, match="--cpu_devices=3: TensorFlow already started"):
        distribute.make_strategy("mirrored", cpu_devices=3)


def test_xla_with_a_multi_device_strategy_is_refused():
    with pytest.raises(ValueError, match="--jit_compile works only with --strategy=default"):
        Config(jit_compile=True, strategy="mirrored")


def masked_training_keeps_zeros(model):
    mask = tfprune.prune(model, 0.5)
    model.fit(data(), epochs=2, verbose=0, callbacks=[cb.KeepMasks()])
    kernels = masked_model.get_kernels(model)
    assert masked_model.get_masks(model) == mask
    return all(np.all(kernels[k][~m] == 0) for k, m in mask.items())


@pytest.mark.slow
def test_xla_training_keeps_pruned_weights_exactly_zero():
    model = compiled()
    model.compile(model.optimizer, model.loss, jit_compile=True)
    assert masked_training_keeps_zeros(model)


@pytest.mark.slow
def test_mixed_precision_run_keeps_float32_masks_and_exact_zeros(tmp_path):
    config = Config(**tiny_config(mixed_precision=True, workdir=str(tmp_path)))
    results = loop.run(config)
    assert keras.mixed_precision.global_policy().name == "float32"  # the process's is restored
    model = build.build_model(config, build.load_data(config, 0))
    assert model.get_layer("mask_wrapper_fc1").layer.compute_dtype == "bfloat16"
    assert model.layers[-1].compute_dtype == "float32"  # float32 logits
    run_dir = RunDir(tmp_path)
    for key, m in run_dir.mask(1).items():
        kernel = run_dir.kernels(1)[key]
        assert kernel.dtype == np.float32 and np.all(kernel[~m] == 0)
    assert results[1]["test_accuracy"] > 0.2
