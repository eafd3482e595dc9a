"""Export: every format reloads and predicts like the round's Keras model, its weights are the
mask's, gzip size falls with density, an unfaithful export writes nothing, bad input is one
line and a non-zero exit, and the run directory is never changed."""
import json
import os

import numpy as np
import pytest

from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.export import artifacts, litert
from tfprune.export import plan as export_plan
from tfprune.masking import kerases
from tfprune.masking.kerases import tf

from conftest import tiny_config
from snapshots import snapshot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT_PY = os.path.join(ROOT, "launch", "export.py")
FAST = artifacts.Options(repeats=2, calibration_examples=256)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs (tf_keras and Keras 3): convnet on MNIST-1D, densities 1, 0.5, 0.25."""
    root = tmp_path_factory.mktemp("export_runs")
    for flavour in kerases.FLAVOURS:
        loop.run(Config(keras=flavour, rounds=2, epochs=2, warmup_epochs=1,
                              rewind_epoch=1, prune_fraction=0.5, download=False,
                              workdir=str(root / f"keras{flavour}")))
    return root


@pytest.fixture(scope="module")
def exported(runs, tmp_path_factory):
    """Round 1 of each run exported in every format: {flavour: (run, out, export.json)}."""
    out = {}
    for flavour in kerases.FLAVOURS:
        run = str(runs / f"keras{flavour}")
        before = snapshot(run)
        folder = tmp_path_factory.mktemp(f"export{flavour}")
        summary = artifacts.export(export_plan.make_plan(run, str(folder), round=1), FAST)
        assert snapshot(run) == before, "the export changed the run directory"
        out[flavour] = (run, folder, summary)
    return out


def _test_inputs(run, rows=256):
    config = Config.from_dict(json.load(open(os.path.join(run, "config.json"))))
    x = np.concatenate([np.asarray(x) for x, _ in build.load_data(config, 1).test])
    return x[:rows].astype(np.float32)


def _reload_and_predict(fmt, path, flavour, x):
    """The artifact's outputs on `x`, loaded with the libraries' own loaders (not tfprune's)."""
    if fmt == "keras":
        model = kerases.keras(flavour).models.load_model(path, compile=False)
        return np.asarray(model.predict(x, verbose=0))
    if fmt == "saved_model":
        signature = tf.saved_model.load(path).signatures["serving_default"]
        (name, _), = signature.structured_input_signature[1].items()
        return next(iter(signature(**{name: tf.constant(x)}).values())).numpy()
    interpreter = tf.lite.Interpreter(model_path=path)  # TensorFlow's bundled interpreter
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.slow
@pytest.mark.parametrize("flavour", kerases.FLAVOURS)
def test_every_format_reloads_and_predicts_like_the_keras_model(exported, flavour):
    run, out, summary = exported[flavour]
    (record,) = summary["rounds"]
    assert record["round"] == 1 and set(record["artifacts"]) == set(export_plan.FORMATS)
    x = _test_inputs(run)
    reference = artifacts.load_round(run, 1).model.predict(x, verbose=0)
    scale = np.abs(reference).max()
    for fmt, artifact in record["artifacts"].items():
        path = os.path.join(out, artifact["path"])
        assert os.path.exists(path) and artifact["bytes"] == artifacts.size_bytes(path)
        assert 0 < artifact["gzip_bytes"] < artifact["bytes"], fmt
        predicted = _reload_and_predict(fmt, path, flavour, x)
        if fmt == "tflite_int8":
            agree = np.mean(predicted.argmax(1) == reference.argmax(1))
            assert agree > 0.9, agree
            assert np.mean(np.abs(predicted - reference)) < 0.1 * np.mean(np.abs(reference))
        else:
            np.testing.assert_allclose(predicted, reference, atol=1e-4 * scale, err_msg=fmt)
            assert abs(artifact["accuracy_change_points"]) <= artifacts.TOLERANCE_POINTS
        assert artifact["test_accuracy"] == pytest.approx(
            record["metrics_test_accuracy"] + artifact["accuracy_change_points"] / 100, abs=1e-6)
    sparse = record["artifacts"]["tflite_sparse"]
    assert sparse["sparse_tensors"] > 0 and sparse["bytes"] < record["artifacts"]["tflite"]["bytes"]


@pytest.mark.slow
@pytest.mark.parametrize("flavour", kerases.FLAVOURS)
def test_density_of_every_artifact_is_the_masks(exported, flavour):
    _, _, summary = exported[flavour]
    (record,) = summary["rounds"]
    assert record["mask_density"] == pytest.approx(0.5, abs=1e-3)
    for fmt, artifact in record["artifacts"].items():
        assert artifact["weights"] == record["mask_weights"], fmt  # every kernel is masked
        if fmt == "tflite_int8":  # rounding may zero a few more
            assert 0.99 * record["mask_kept"] <= artifact["nonzero_weights"] <= record["mask_kept"]
        else:
            assert artifact["nonzero_weights"] == record["mask_kept"], fmt
        assert artifact["density"] == artifact["nonzero_weights"] / artifact["weights"]


@pytest.mark.slow
def test_latency_is_recorded_for_keras_and_each_litert_format(exported):
    _, out, summary = exported["2"]
    on_disk = json.load(open(out / export_plan.EXPORT_JSON))
    assert on_disk == json.loads(json.dumps(summary))
    (record,) = summary["rounds"]
    assert set(record["keras_latency_ms"]) == {"1", "32"}
    for fmt in ("tflite", "tflite_sparse", "tflite_int8"):
        times = record["artifacts"][fmt]["latency_ms"]
        assert set(times) == {litert.XNNPACK, litert.BUILTIN}
        assert all(ms > 0 for by_batch in times.values() for ms in by_batch.values())
    assert summary["baseline"]["round"] == 0  # the dense round, measured though not exported
    assert set(summary["baseline"]["tflite_latency_ms"]) == {litert.XNNPACK, litert.BUILTIN}
    assert summary["interpreter"] == litert.interpreter_class("auto")[1]
    for fmt in ("tflite", "tflite_sparse", "tflite_int8"):  # against round 0 in that format
        artifact, dense = record["artifacts"][fmt], summary["baseline"][f"{fmt}_latency_ms"]
        assert artifact["structure"] == "unstructured"
        for resolver, by_batch in artifact["latency_ms"].items():
            for batch, ms in by_batch.items():
                assert artifact["speedup_vs_dense"][resolver][batch] == pytest.approx(
                    dense[resolver][batch] / ms, rel=1e-2, abs=5e-4)  # stored to 3 decimals
    assert set(record["keras_speedup_vs_dense"]) == {"1", "32"}


@pytest.mark.slow
def test_all_rounds_gzip_size_falls_with_density_and_the_figure(runs, tmp_path):
    run = str(runs / "keras2")
    before = snapshot(run)
    plan = export_plan.make_plan(run, str(tmp_path / "all"), ("keras", "tflite", "tflite_int8"),
                                 all=True)
    options = artifacts.Options(interpreter="tensorflow", repeats=2, calibration_examples=256)
    summary = artifacts.export(plan, options)
    assert snapshot(run) == before
    assert [r["round"] for r in summary["rounds"]] == [0, 1, 2]
    assert summary["interpreter"].startswith("tensorflow ")
    densities = [r["mask_density"] for r in summary["rounds"]]
    assert densities == sorted(densities, reverse=True) and densities[0] == 1.0
    for fmt in plan.formats:
        sizes = [r["artifacts"][fmt]["gzip_bytes"] for r in summary["rounds"]]
        assert sizes[0] > sizes[1] > sizes[2], (fmt, sizes)
        raw = [r["artifacts"][fmt]["bytes"] for r in summary["rounds"]]
        assert max(raw) - min(raw) < 0.01 * max(raw), (fmt, raw)  # dense storage: same bytes
    with open(tmp_path / "all" / export_plan.FIGURE, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_an_unfaithful_float_artifact_fails_the_export_and_writes_nothing(runs, tmp_path):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(runs / "keras2", run)
    metrics_path = run / "round_01" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["test_accuracy"] += 0.005  # half a point more than the model reaches
    metrics_path.write_text(json.dumps(metrics))
    out = tmp_path / "out"
    plan = export_plan.make_plan(str(run), str(out), ("tflite",), round=1)
    with pytest.raises(ValueError, match=r"round 1: the tflite model's test accuracy .* differs "
                       r"from metrics.json's .* by 0.50 points .*nothing was written"):
        artifacts.export(plan, artifacts.Options(repeats=0))
    assert not out.exists()


@pytest.mark.slow
def test_overwrite_replaces_only_the_exports_files(runs, tmp_path):
    run, out = str(runs / "keras3"), tmp_path / "out"
    plan = export_plan.make_plan(run, str(out), ("tflite",), round=2)
    artifacts.export(plan, artifacts.Options(repeats=0))
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="already holds round_02/model.tflite .*--overwrite"):
        export_plan.make_plan(run, str(out), ("tflite",), round=2)
    plan = export_plan.make_plan(run, str(out), ("tflite",), round=2, overwrite=True)
    summary = artifacts.export(plan, artifacts.Options(repeats=0))
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(out)) == ["export.json", "notes.txt", "round_02"]
    assert "latency_ms" not in summary["rounds"][0]["artifacts"]["tflite"]  # --repeats=0


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    """Round 2 (density 0.16) of LeNet runs under three structures, exported as float LiteRT
    (and Keras for channel): {structure: export.json}."""
    root, out = tmp_path_factory.mktemp("structured"), {}
    for spec, flavour in (("channel", "3"), ("block:1x4", "2"), ("nm:2:4", "2")):
        run = str(root / spec.replace(":", "_"))
        loop.run(Config(**tiny_config(rounds=2, prune_fraction=0.6, structure=spec,
                                      keras=flavour, workdir=run)))
        formats = ("keras", "tflite", "tflite_sparse") if spec == "channel" else (
            "tflite_sparse",)
        plan = export_plan.make_plan(run, str(root / f"out_{spec.replace(':', '_')}"),
                                     formats=formats, round=2)
        out[spec] = artifacts.export(plan, artifacts.Options(repeats=1, batch_sizes=(1,)))
    return out


@pytest.mark.slow
def test_a_channel_round_is_exported_as_the_smaller_dense_model(structured):
    summary = structured["channel"]
    (record,) = summary["rounds"]
    assert summary["structure"] == "channel"
    shrunk = record["structure"]
    assert shrunk["channels_kept"] < shrunk["channels"] == 400  # LeNet's hidden units
    assert shrunk["output_difference"] <= 1e-5
    assert record["mask_density"] == pytest.approx(0.16, abs=0.01)
    for artifact in record["artifacts"].values():  # every weight of the file is a kept one
        assert artifact["structure"] == "channel"
        assert artifact["weights"] == artifact["nonzero_weights"] <= record["mask_kept"]
        assert abs(artifact["accuracy_change_points"]) <= artifacts.TOLERANCE_POINTS
    for fmt in ("tflite", "tflite_sparse"):  # timed against round 0 in the same format
        assert record["artifacts"][fmt]["speedup_vs_dense"][litert.XNNPACK]["1"] > 0


@pytest.mark.slow
def test_block_1x4_runs_litert_sparse_kernels_and_nm_records_its_pattern(structured):
    (block,) = structured["block:1x4"]["rounds"]
    sparse = block["artifacts"]["tflite_sparse"]
    assert sparse["sparse_tensors"] >= 2 and sparse["densify_ops"] == 0  # the hidden layers
    assert sparse["sparse_kernels_run"]
    (nm,) = structured["nm:2:4"]["rounds"]
    assert nm["structure"]["pattern"] == "nm:2:4"
    assert nm["structure"]["kernels_following"] == ["fc/kernel", "fc1/kernel", "fc2/kernel"]
    assert nm["artifacts"]["tflite_sparse"]["densify_ops"] > 0  # LiteRT has no N:M kernel


def test_gzip_size_falls_with_zeros_and_ignores_dates(tmp_path):
    rng = np.random.default_rng(0)
    weights = rng.normal(size=10_000).astype(np.float32)
    sizes = []
    for density in (1.0, 0.5, 0.1):
        path = tmp_path / f"w{density}.bin"
        path.write_bytes(np.where(rng.random(weights.size) < density, weights, 0).tobytes())
        sizes.append(artifacts.gzip_bytes(str(path)))
    assert sizes[0] > sizes[1] > sizes[2]
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a").write_bytes(weights.tobytes())
    first = artifacts.gzip_bytes(str(folder))
    os.utime(folder / "a", (0, 12345))
    assert artifacts.gzip_bytes(str(folder)) == first
    assert artifacts.size_bytes(str(folder)) == weights.nbytes
