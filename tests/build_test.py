"""Keeps the Bazel BUILD file in sync: every module, launcher and test has a target with its deps."""
import ast
import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_targets():
    """{src path: (rule kind, name, set of deps)} parsed from BUILD."""
    text = open(os.path.join(ROOT, "BUILD")).read()
    targets = {}
    for kind, body in re.findall(r"^(py_\w+)\((.*?)^\)", text, re.S | re.M):
        name = re.search(r'name = "([^"]+)"', body).group(1)
        deps = set(re.findall(r'":([^"]+)"', (re.search(r"deps = \[(.*?)\]", body, re.S)
                                                or [None, ""])[1] if "deps" in body else ""))
        for src in re.findall(r'"([\w/]+\.py)"', re.search(r"srcs = \[(.*?)\]", body, re.S)[1]):
            targets[src] = (kind, name, deps)
    return targets


def module_of(path):
    """The name a file is imported by: tests/ and bench/ put themselves on sys.path."""
    name = path[:-3].replace("/", ".").removeprefix("tests.").removeprefix("bench.")
    return name.removesuffix(".__init__")


def imported_modules(path, modules):
    """The project modules that `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(open(os.path.join(ROOT, path)).read())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found & set(modules)


def sources():
    pattern = ["tfprune/**/*.py", "launch/*.py", "bench/*.py", "tests/*.py"]
    return sorted(p for g in pattern for p in glob.glob(g, root_dir=ROOT, recursive=True))


def test_every_module_launcher_and_test_has_a_target():
    targets = build_targets()
    missing = [p for p in sources() if p not in targets]
    assert not missing, f"add these to BUILD: {missing}"
    stale = [p for p in targets if not os.path.exists(os.path.join(ROOT, p))]
    assert not stale, f"BUILD names files that do not exist: {stale}"
    for path, (kind, _, _) in targets.items():
        expected = ("py_test" if path.endswith("_test.py") else
                    "py_binary" if path.startswith(("launch/", "bench/")) and
                    not path.endswith("common.py") else "py_library")
        assert kind == expected, path


def test_deps_match_the_imports():
    targets = build_targets()
    modules = {module_of(p): p for p in sources() if not p.endswith("_test.py")}
    for path, (_, name, deps) in targets.items():
        wanted = {targets[modules[m]][1] for m in imported_modules(path, modules)} - {name}
        assert deps == wanted, f"{name}: deps {sorted(deps)} but imports need {sorted(wanted)}"


@pytest.mark.skipif(shutil.which("bazel") is None, reason="bazel not installed")
def test_bazel_query_parses_the_build_file():
    result = subprocess.run(["bazel", "--batch", "query", "//:all"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
