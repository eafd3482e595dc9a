"""The floor plan: packages in layers whose imports point down only, numpy-only packages that
load no TensorFlow, tests that mirror the packages, and README's tree kept true."""
import ast
import glob
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

# Lowest first. A module may import its own package and the packages of lower layers only.
LAYERS = (
    ("core",),      # numpy only: masks, analyses, signs, files, logs, the run directory
    ("pruning",),   # numpy only: scores and the masks they choose
    ("masking",),   # masks on Keras models of either Keras
    ("training", "models", "datasets", "configs", "theory"),  # what a fit, a run, a figure uses
    ("engine",),    # config, methods, the round loop, resume, monitors, TensorBoard
    ("grid", "export", "report"),  # grids of runs, deployable models, figures
    ("commands",),  # the command-line programs
)
LAYER = {package: i for i, packages in enumerate(LAYERS) for package in packages}
FRONT_DOOR = ("tfprune/__init__.py", "tfprune/__main__.py")  # the public API and the command
NO_TENSORFLOW = ["tfprune.core", "tfprune.pruning", "tfprune.grid", "tfprune.configs",
                 "tfprune.theory", "tfprune.engine.config", "tfprune.engine.config_changes",
                 "tfprune.engine.grouping", "tfprune.export.plan", "tfprune.report"]
# Packages whose modules are the entries of one registry are tested through it.
TESTED_THROUGH_REGISTRY = {"models": "models_test.py", "pruning": "pruning_test.py",
                           "datasets": "datasets_test.py", "configs": "configs_test.py"}
# The commands are thin absl programs, run as processes by the scenario tests.
TESTED_AS_PROCESSES = {"commands": "scenarios/launch_test.py"}


def modules():
    """{path: dotted name} of every module of tfprune/."""
    paths = glob.glob("tfprune/**/*.py", root_dir=ROOT, recursive=True)
    return {p: p[:-3].replace("/", ".").removesuffix(".__init__") for p in sorted(paths)}


def package_of(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYER) else None


SPEC = re.compile(r"^(tfprune(?:\.\w+)+)(?::[\w.]+)?$")  # "module:attribute", loaded on use


def imports(path):
    """The tfprune modules that `path` imports, anywhere in it (function bodies too), those it
    names as strings to load later (`core.lazy`, importlib), and the modules behind the public
    names of `tfprune` it imports."""
    import tfprune
    found = set()
    for node in ast.walk(ast.parse(open(os.path.join(ROOT, path)).read())):
        if isinstance(node, ast.ImportFrom) and node.module == "tfprune":
            found |= {tfprune._MODULE_OF.get(a.name, f"tfprune.{a.name}") for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "tfprune."):
            found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tfprune")}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = SPEC.match(node.value)
            found |= {match.group(1)} if match else set()
    return found


def test_every_package_has_a_layer():
    packages = {package_of(name) for name in modules().values()} - {None}
    assert packages == set(LAYER)


def test_imports_point_down_the_layers_only():
    upward = []
    for path, name in modules().items():
        if path in FRONT_DOOR:
            continue
        own = package_of(name)
        for imported in imports(path):
            other = package_of(imported)
            if other is None or other == own:
                continue
            if LAYER[other] >= LAYER[own]:
                upward.append(f"{path} imports {imported} ({other} is not below {own})")
    assert not upward, "\n".join(upward)


def test_numpy_only_packages_load_no_tensorflow():
    names = [n for n in modules().values()
             if any(n == p or n.startswith(p + ".") for p in NO_TENSORFLOW)]
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'tensorflow' not in sys.modules, name + ' loaded TensorFlow'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]


def test_each_module_with_logic_has_a_test_module():
    missing = []
    for path, name in modules().items():
        if path.endswith("__init__.py") or path in FRONT_DOOR:
            continue
        package, module = package_of(name), os.path.basename(path)[:-3]
        expected = (os.path.join("tests", TESTED_AS_PROCESSES[package]) if package in
                    TESTED_AS_PROCESSES else
                    os.path.join("tests", package, TESTED_THROUGH_REGISTRY[package]) if package in
                    TESTED_THROUGH_REGISTRY else
                    os.path.join("tests", package, f"{module}_test.py"))
        if not os.path.exists(os.path.join(ROOT, expected)):
            missing.append(f"{path}: no {expected}")
    assert not missing, "\n".join(missing)


def test_tests_mirror_the_packages():
    folders = {os.path.basename(os.path.dirname(p)) for p in
               glob.glob("tests/*/*_test.py", root_dir=ROOT)}
    assert folders <= set(LAYER) | {"scenarios", "project"}, folders
    names = [os.path.basename(p) for p in glob.glob("tests/**/*_test.py", root_dir=ROOT,
                                                    recursive=True)]
    assert len(names) == len(set(names)), "two test files share a name"


def readme_tree():
    """The paths README's layout lists: one line per module, in its tree block."""
    text = open(os.path.join(ROOT, "README.md")).read()
    block = re.search(r"<!-- tree -->\n```\n(.*?)```", text, re.S)
    assert block, "README.md has no ```-block after <!-- tree -->"
    paths, stack = [], []
    for line in block.group(1).splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if not match:
            continue
        depth, entry = len(match.group(1)) // 2, match.group(2)
        stack[depth:] = [entry]
        if entry.endswith(".py"):
            paths.append("/".join(s.rstrip("/") for s in stack))
    return paths


def test_the_readme_tree_lists_every_module_once_and_nothing_else():
    listed = readme_tree()
    wanted = [p for p in modules() if not p.endswith("/__init__.py") or p in FRONT_DOOR]
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == sorted(wanted), (  # packages' own __init__.py are not listed
        f"missing: {sorted(set(wanted) - set(listed))}; "
        f"not modules: {sorted(set(listed) - set(wanted))}")


@pytest.mark.parametrize("path", sorted(set(glob.glob("tfprune/**/*.py", root_dir=ROOT,
                                                      recursive=True))))
def test_every_module_says_what_it_is_for(path):
    tree = ast.parse(open(os.path.join(ROOT, path)).read())
    assert ast.get_docstring(tree), f"{path} has no docstring"
