"""How each command runs: absl's `app.run` of its main, with its module docstring as --help."""
import sys

from absl import app


def run(main, doc, argv=None):
    """Runs `main` as an absl program (`argv` default: sys.argv); --help starts with `doc`."""
    sys.modules["__main__"].__doc__ = doc  # absl's usage text is the __main__ docstring
    app.run(main, argv)
