"""Fault injection at named stages: off unless asked, raise or kill once, passed to workers."""
import pytest

from tfprune.core import faults


def test_stages_do_nothing_unless_a_variable_names_them(monkeypatch):
    for name in faults.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    faults.stage("saved_mask:round_01")
    monkeypatch.setenv("TFPRUNE_RAISE_AT", "saved_mask:round_02")
    faults.stage("saved_mask:round_01")  # another stage
    with pytest.raises(faults.InjectedFault, match="saved_mask:round_02"):
        faults.stage("saved_mask:round_02")
    assert faults.environment() == {"TFPRUNE_RAISE_AT": "saved_mask:round_02"}


def test_a_fault_marked_once_fires_once(monkeypatch, tmp_path):
    monkeypatch.setenv("TFPRUNE_RAISE_AT", "start:a")
    monkeypatch.setenv("TFPRUNE_FAULT_ONCE", str(tmp_path / "fired"))
    with pytest.raises(faults.InjectedFault):
        faults.stage("start:a")
    faults.stage("start:a")  # the retry goes through
    assert (tmp_path / "fired").exists()
