"""How each command runs: absl's `app.run` of its main, with its module docstring as --help;
--backend chosen before Keras is imported."""
import os
import sys

from absl import app


def run(main, doc, argv=None):
    """Runs `main` as an absl program (`argv` default: sys.argv); --help starts with `doc`."""
    sys.modules["__main__"].__doc__ = doc  # absl's usage text is the __main__ docstring
    app.run(main, argv)


def select_backend(argv=None):
    """Sets KERAS_BACKEND from a --backend flag in `argv` (default: sys.argv), before anything
    imports keras (which reads it once): the flag wins over the environment."""
    args = list(sys.argv if argv is None else argv)
    for i, arg in enumerate(args):
        if arg.startswith("--backend="):
            os.environ["KERAS_BACKEND"] = arg.split("=", 1)[1]
        elif arg == "--backend" and i + 1 < len(args):
            os.environ["KERAS_BACKEND"] = args[i + 1]
