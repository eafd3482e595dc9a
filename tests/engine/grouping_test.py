"""The one rule of which runs are averaged together, on run directories written by hand."""
import json

from tfprune.engine import grouping
from tfprune.engine.config import Config


def run(root, folder_name, config_changes=None, **overrides):
    """A run directory with one completed round: config.json, metrics.json, and (if given)
    config_changes.json."""
    folder = root / folder_name
    (folder / "round_00").mkdir(parents=True)
    config = Config(workdir=str(folder), **overrides).to_dict()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "round_00" / "metrics.json").write_text(json.dumps({"round": 0}))
    if config_changes:
        (folder / "config_changes.json").write_text(json.dumps(config_changes))
    return str(folder)


RETRAINED = [{"from_round": 2, "diverged": {"epoch": 1}, "changed": {"lr": {"old": 0.1,
                                                                          "new": 0.05}}}]


def test_seeds_and_free_keys_are_averaged_other_settings_are_not(tmp_path):
    a = run(tmp_path, "a", seed=0)
    b = run(tmp_path, "b", seed=1, rounds=3)  # rounds: a free key
    c = run(tmp_path, "c", seed=0, pruning="random_erk")
    d = run(tmp_path, "d", seed=0, method="imp")
    groups = {g.label: g.paths for g in grouping.group([a, b, c, d])}
    assert groups == {"lrr pruning=global_magnitude": [a, b],
                      "lrr pruning=random_erk": [c], "imp pruning=global_magnitude": [d]}


def test_a_run_retrained_with_other_settings_is_never_averaged_with_the_others(tmp_path):
    a = run(tmp_path, "a", seed=0, lr=0.05)
    b = run(tmp_path, "b", seed=1, lr=0.05, config_changes=RETRAINED)
    groups = grouping.group([a, b])
    assert [(g.label, g.paths, g.changed_from) for g in groups] == [
        ("lrr", [a], None), ("lrr (settings changed at round 2)", [b], 2)]


def test_named_runs_group_by_name_and_width_not_by_their_sources(tmp_path):
    a0 = run(tmp_path, "a0", name="imp_with_lrr_mask", mask_from="x/seed_0", seed=0)
    a1 = run(tmp_path, "a1", name="imp_with_lrr_mask", mask_from="x/seed_1", seed=1)
    w2 = run(tmp_path, "w2", name="imp_with_lrr_mask", mask_from="x/seed_0", seed=0, width=2)
    groups = {g.label: g.paths for g in grouping.group([a0, a1, w2])}
    assert groups == {"imp_with_lrr_mask width=None": [a0, a1],
                      "imp_with_lrr_mask width=2": [w2]}


def test_find_runs_and_load_run_refuse_what_is_not_a_run(tmp_path):
    import pytest
    a = run(tmp_path / "sweep", "lrr/seed_0")
    (tmp_path / "elsewhere").mkdir()
    assert grouping.find_runs(str(tmp_path / "sweep")) == [a]
    assert grouping.load_run(a)[1] == [{"round": 0}]
    with pytest.raises(ValueError, match="not a run directory"):
        grouping.find_runs(str(tmp_path / "elsewhere"))
