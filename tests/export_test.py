"""Export: every format reloads and predicts like the round's Keras model, its weights are the
mask's, gzip size falls with density, an unfaithful export writes nothing, bad input is one
line and a non-zero exit, and the run directory is never changed."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from snapshots import snapshot

from tfprune.engine import build, loop
from tfprune.engine.config import Config
from tfprune.export import artifacts, latency, litert
from tfprune.export import plan as export_plan
from tfprune.masking import kerases
from tfprune.masking.kerases import tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


# Bad input, without training: a run directory of config.json and metrics.json files.
@pytest.fixture
def fake_run(tmp_path):
    """A 'finished' 2-round run as export_plan reads it (no model: only plans are checked)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(Config(rounds=2, workdir=str(run)).to_dict()))
    for r, (density, accuracy) in enumerate([(1.0, 0.9), (0.8, 0.95), (0.64, 0.93)]):
        (run / f"round_{r:02d}").mkdir()
        (run / f"round_{r:02d}" / "metrics.json").write_text(json.dumps(
            {"round": r, "density": density, "test_accuracy": accuracy}))
    return run


def launch(*args):
    return subprocess.run([sys.executable, EXPORT_PY, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (["--round=7"], "error: --round=7 does not exist; the run has rounds 0-2"),
    (["--formats=tflite,onnx"], "error: --formats=tflite,onnx: unknown onnx; valid: keras,"),
    (["--out={run}/export"], "error: --out={run}/export is inside the run directory {run}; "),
    (["--round=1", "--best"], "error: give at most one of --round, --density, --best, --all"),
])
def test_launcher_refuses_bad_input_in_one_line_and_changes_nothing(fake_run, tmp_path, args,
                                                                     message):
    before = snapshot(fake_run)
    args = [a.format(run=fake_run) for a in args]
    out = [] if any(a.startswith("--out") for a in args) else [f"--out={tmp_path / 'out'}"]
    result = launch(f"--run={fake_run}", *out, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(message.format(run=fake_run)), result.stderr[-1000:]
    assert sum(line.startswith("error:") for line in lines) == 1
    assert snapshot(fake_run) == before
    assert not (tmp_path / "out").exists()


def test_launcher_refuses_an_unfinished_run(fake_run, tmp_path):
    os.remove(fake_run / "round_02" / "metrics.json")
    before = snapshot(fake_run)
    result = launch(f"--run={fake_run}", f"--out={tmp_path / 'out'}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --run={fake_run} is not finished (rounds 0-1 of 0-2 complete): finish it "
        f"with launch/train.py --workdir={fake_run} first")
    assert snapshot(fake_run) == before


def test_plan_picks_rounds_and_refuses_what_it_cannot_export(fake_run, tmp_path):
    def plan(**kwargs):
        return export_plan.make_plan(str(fake_run), str(tmp_path / "out"), **kwargs)
    assert plan().rounds == (2,)  # the last, sparsest round by default
    assert plan(density=0.75).rounds == (1,)
    assert plan(best=True).rounds == (1,)
    assert plan(all=True).rounds == (0, 1, 2) and plan(all=True).figure
    assert plan(formats="tflite_int8").formats == ("tflite_int8",)
    for kwargs, message in [
            (dict(round=-1), "--round=-1 does not exist"),
            (dict(density=0), r"--density=0 must be in \(0, 1\]"),
            (dict(all=True, best=True), "at most one of"),
            (dict(formats="tflite,tflite"), "names a format twice"),
            (dict(formats=""), "no format")]:
        with pytest.raises(ValueError, match=message):
            plan(**kwargs)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        export_plan.make_plan(str(fake_run), str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is not a run directory"):
        export_plan.make_plan(str(tmp_path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


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


def _dense_model(inputs):
    keras = kerases.keras("3")
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(4, name="fc")])
    kernel = np.arange(inputs * 4, dtype=np.float32).reshape(inputs, 4) % 3  # a third zeros
    model.get_layer("fc").set_weights([kernel, np.ones(4, np.float32)])
    return model, kernel


def test_litert_counts_the_weights_a_flatbuffer_stores():
    model, kernel = _dense_model(8)
    for kind in (litert.FLOAT, litert.SPARSE):
        counts = litert.weight_counts(litert.convert(model, (8,), kind))
        assert (counts["weights"], counts["nonzero_weights"]) == (32, 21), kind
        assert counts["sparse_tensors"] == (kind == litert.SPARSE)
    runner = litert.Runner(litert.convert(model, (8,)), batch_size=4, which="tensorflow")
    x = np.ones((3, 8), np.float32)
    np.testing.assert_allclose(runner(x), x @ kernel + 1, rtol=1e-6)
    with pytest.raises(ValueError, match="needs calibration data"):
        litert.convert(model, (8,), litert.INT8)


def test_a_sparse_flatbuffer_that_lost_weights_is_caught_by_its_counts():
    """TF 2.21's converter stores a dense kernel of 6 inputs in 1x4 blocks and drops the
    last 2 inputs; whatever a converter does, the counts tell a faithful flatbuffer."""
    model, kernel = _dense_model(6)
    reference = artifacts.weight_counts([kernel])
    x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    flatbuffer = litert.convert(model, (6,), litert.SPARSE)
    counts = litert.weight_counts(flatbuffer)
    artifact = {"format": "tflite_sparse", "accuracy_change_points": 0.0, **counts}
    runner = litert.Runner(flatbuffer, batch_size=3, which="tensorflow")
    if np.allclose(runner(x), x @ kernel + 1, atol=1e-5):
        assert artifacts.unfaithful(artifact, 0.9, reference) is None
    else:
        assert "nonzero weights" in artifacts.unfaithful(artifact, 0.9, reference)


def test_a_model_the_converter_cannot_take_is_one_line():
    keras = kerases.keras("2")
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: tf.numpy_function(np.sin, [x], tf.float32))(inputs)
    with pytest.raises(ValueError, match=r"^the LiteRT converter failed \(float\): .*PyFunc") as e:
        litert.convert(keras.Model(inputs, outputs), (4,))
    assert "\n" not in str(e.value)


def test_interpreters_are_named_and_a_missing_litert_is_one_line():
    cls, name = litert.interpreter_class("tensorflow")
    assert cls is tf.lite.Interpreter and name.startswith("tensorflow ")
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="ai-edge-litert is not installed"):
            litert.interpreter_class("litert")
    else:
        assert litert.interpreter_class("litert")[1].startswith("ai-edge-litert ")
        assert litert.interpreter_class("auto")[1].startswith("ai-edge-litert ")
    with pytest.raises(ValueError, match="--interpreter='onnx' is not valid"):
        litert.interpreter_class("onnx")


def test_latency_is_a_median_of_positive_times():
    times = latency.by_batch(lambda b: (lambda: sum(range(1000 * b))), (1, 32), repeats=5)
    assert set(times) == {"1", "32"} and all(ms > 0 for ms in times.values())
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        latency.median_ms(lambda: None, repeats=0)
