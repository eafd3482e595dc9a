"""TensorBoard output of real tiny runs, read back with TensorBoard's own reader and server."""
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from tfprune.core.rundir import RunDir
from tfprune.engine import tensorboard


def read_events(folder):
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def values(accumulator, tag):
    return {e.step: tensor_util.make_ndarray(e.tensor_proto) for e in accumulator.Tensors(tag)}


@pytest.mark.slow
def test_round_and_epoch_scalars_match_the_metrics(tiny_runs):
    events = read_events(tiny_runs / "lrr")
    tags = set(events.Tags()["tensors"])
    for tag in ("round/test_accuracy", "round/density", "round/sign_flips_vs_rewind",
                "round/sign_flips_vs_prev_round", "round/distance_from_rewind",
                "epoch/loss", "epoch/accuracy", "epoch/learning_rate", "epoch/sign_flips",
                "layer_density/fc1/kernel", "layer_sign_flips_vs_rewind/fc/kernel"):
        assert tag in tags, tag
    run_dir = RunDir(tiny_runs / "lrr")
    accuracy = values(events, "round/test_accuracy")
    flips = values(events, "round/sign_flips_vs_rewind")
    for r in range(3):
        metrics = run_dir.metrics(r)
        assert float(accuracy[r]) == pytest.approx(metrics["test_accuracy"])
        assert float(flips[r]) == pytest.approx(metrics["sign_flips_vs_rewind"])
    assert sorted(values(events, "epoch/loss")) == [0, 1, 2, 3, 4, 5]  # 3 rounds x 2 epochs
    assert float(values(events, "layer_density/fc1/kernel")[2]) == pytest.approx(
        run_dir.metrics(2)["layer_density"]["fc1/kernel"])


@pytest.mark.slow
def test_histograms_and_mask_images_are_written(tiny_runs):
    events = read_events(tiny_runs / "imp")
    tags = set(events.Tags()["tensors"])
    assert {"weights/fc1/kernel", "weights/fc/kernel"} <= tags
    images = [t for t in tags if t.startswith("mask/")]
    assert 1 <= len(images) <= tensorboard.MASK_IMAGE_LAYERS


def test_mask_image_is_block_averaged_density():
    mask = np.zeros((1000, 10))
    mask[:500] = 1
    image = tensorboard.mask_image(mask)
    assert image.shape == (1, 250, 10, 1)
    assert image.mean() == pytest.approx(0.5)
    assert tensorboard.mask_image(np.ones((3, 3, 4, 8))).shape == (1, 36, 8, 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_real_tensorboard_server_serves_the_sign_flips(tiny_runs):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(tiny_runs),
         "--host", "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        runs = []
        while time.time() < deadline and not {"lrr", "imp"} <= set(runs):
            time.sleep(1)
            try:
                runs = get_json(f"{base}/data/runs")
            except OSError:
                continue
        assert {"lrr", "imp"} <= set(runs)
        query = urllib.parse.urlencode({"run": "lrr", "tag": "round/sign_flips_vs_rewind"})
        points = []
        while time.time() < deadline and len(points) < 3:
            try:
                points = get_json(f"{base}/data/plugin/scalars/scalars?{query}")
            except OSError:
                time.sleep(1)
        assert [step for _, step, _ in points] == [0, 1, 2]
        expected = RunDir(tiny_runs / "lrr").metrics(2)["sign_flips_vs_rewind"]
        assert points[2][2] == pytest.approx(expected)
        layout = get_json(f"{base}/data/plugin/custom_scalars/layout")
        titles = [c["title"] for cat in layout["category"] for c in cat["chart"]]
        assert "sign flips vs rewind point, per round" in titles
    finally:
        server.terminate()
        server.wait(timeout=30)
