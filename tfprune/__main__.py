"""The `tfprune` command: `tfprune <command> [--flags]`, or `python -m tfprune <command>`.

    tfprune train --method=lrr                 # prune and retrain into runs/
    tfprune sweep --sweep=masks --seeds=0,1,2  # a grid of runs, resumable
    tfprune report --runs=runs/ --out=report/  # the paper's figures from run directories
    tfprune export --run=runs/lrr --best       # deployable models of a finished run
    tfprune lmc --run=runs/imp                 # linear mode connectivity: error barriers
    tfprune single-neuron --dim=1,2,10         # the paper's one-neuron theory, numpy only
    tfprune reproduce --scale=laptop           # every claim of the paper, judged over seeds

`tfprune <command> --help` lists a command's flags.
"""
import importlib
import sys

COMMANDS = {"train": "train", "sweep": "sweep", "report": "report", "export": "export",
            "lmc": "lmc", "single-neuron": "single_neuron", "reproduce": "reproduce"}


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    name = argv[1]
    if name not in COMMANDS:
        sys.exit(f"error: unknown command {name!r}; valid: {', '.join(COMMANDS)} "
                 "(tfprune --help)")
    command = importlib.import_module(f"tfprune.commands.{COMMANDS[name]}")
    command.run([f"tfprune {name}"] + argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
