"""Every notebook runs top to bottom headless (small-size switch on), with outputs stripped in git."""
import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

import fake_data
from conftest import ROOT

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_four_notebooks():
    assert [os.path.basename(p)[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_outputs_are_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{os.path.basename(path)} has outputs: clear them before committing "
                "(jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)")


@pytest.fixture(scope="module")
def cifar10_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfds")
    fake_data.write_tfds(str(root), ["cifar10"], n_train=32, n_test=16)
    return root


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
@pytest.mark.slow
def test_notebook_runs_top_to_bottom(path, tmp_path, cifar10_dir, monkeypatch):
    monkeypatch.setenv("TFPRUNE_NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv("TFPRUNE_DATA_DIR", str(cifar10_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell
    assert (tmp_path / "runs").exists() or "single_neuron" in path
