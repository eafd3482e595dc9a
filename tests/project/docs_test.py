"""The documentation stands alone: no file points outside the project, and links resolve.

The project's files (those git tracks, plus new ones it does not ignore) must not cite the
team's private notes, which no user has: docs/paper.md holds the paper's protocol and numbers,
bench/RESULTS.md the measurements. Every relative link of README.md and docs/**/*.md must
name a file of the project.
"""
import glob
import os
import re
import subprocess

import pytest

from conftest import ROOT

# Spelled in pieces so that this file does not match itself.
PRIVATE = ("shared/" + "PAPER", "shared/" + "FACTS", "PAPER" + ".md", "FACTS" + ".md",
           "../" + "shared")
MACHINE = ("the lent " + "GPU", "these 2-" + "core")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def project_files():
    """Paths (relative to ROOT) of the text files git tracks or would track."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = []
    for path in sorted(set(filter(None, listed.decode().split("\0")))):
        full = os.path.join(ROOT, path)
        if not os.path.isfile(full):
            continue  # deleted in the working tree
        with open(full, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        paths.append(path)
    return paths


def hits(paths, needles):
    found = []
    for path in paths:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                found += [f"{path}:{number}: {needle!r}" for needle in needles if needle in line]
    return found


def test_the_project_lists_its_files():
    paths = project_files()
    assert "README.md" in paths and "tests/project/docs_test.py" in paths


def test_no_file_cites_the_private_notes():
    found = hits(project_files(), PRIVATE)
    assert not found, ("cite docs/paper.md (the paper) or bench/RESULTS.md (measurements) "
                       "instead:\n" + "\n".join(found))


def test_no_file_speaks_of_one_particular_machine():
    found = hits(project_files(), MACHINE)
    assert not found, ("say what the statement needs (e.g. 'on a 2-core CPU', 'a GPU machine "
                       "with JAX') and where it is measured:\n" + "\n".join(found))


def markdown_files():
    return ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(
        os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))


def relative_links(text):
    """The link targets of markdown `text` that are paths, outside code blocks and spans."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor of the same page
        targets.append(target.split("#", 1)[0])
    return targets


def test_relative_links_parse():
    text = ('[a](docs/paper.md) ![b](docs/x.png "t") [c](https://x.org/y) [d](#s) `[e](no.md)`'
            "\n```\n[f](no.md)\n```\n[g](../README.md#top)")
    assert relative_links(text) == ["docs/paper.md", "docs/x.png", "../README.md"]


@pytest.mark.parametrize("path", markdown_files())
def test_relative_links_point_at_files(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        targets = relative_links(f.read())
    folder = os.path.dirname(os.path.join(ROOT, path))
    missing = [t for t in targets if not os.path.exists(os.path.join(folder, t))]
    assert not missing, f"{path} links to missing files: {missing}"


def test_the_readme_links_the_paper_page():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert "docs/paper.md" in relative_links(f.read())
    assert os.path.isfile(os.path.join(ROOT, "docs", "paper.md"))
