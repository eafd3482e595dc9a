"""The export's trade-off figure, drawn from an export.json (the one kept as legacy test data)."""
import json
import os

from conftest import ROOT
from tfprune.export import tradeoff

SUMMARY = os.path.join(ROOT, "tests", "data", "legacy", "export.json")


def test_series_are_accuracy_against_size_per_round_and_the_figure_is_drawn(tmp_path):
    summary = json.load(open(SUMMARY))
    points = tradeoff.series(summary, "tflite", lambda rec, a: a["gzip_bytes"] / 1024)
    assert [(r, round(acc, 2)) for _, acc, r in points] == [
        (rec["round"], round(100 * rec["artifacts"]["tflite"]["test_accuracy"], 2))
        for rec in summary["rounds"]]
    tradeoff.draw(summary, str(tmp_path / "tradeoff.png"))
    assert (tmp_path / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"
