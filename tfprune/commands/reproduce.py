"""Checks the paper's claims in one command: runs the grid behind them over seeds (resumable),
judges each claim by a paired statistic and a stated rule, and writes report.md and report.html.

    tfprune reproduce --scale=smoke                      # minutes: every claim runs
    tfprune reproduce --scale=laptop                     # about 32 min on 2 CPU cores
    tfprune reproduce --scale=gpu --data_dir=~/tfds --executor=ray --gpus_per_run=1
    tfprune reproduce --scale=laptop --claims=lrr_beats_imp,single_neuron_theory

Scales (tfprune/configs/scales.py): smoke, laptop, gpu. Claims (tfprune/report/claims.py):
every one by default. Finished runs are reused: run the same command again after an
interruption, or with more claims or seeds. Config flags given here (e.g. --keras=3
--backend=jax, --data_dir) change every run of the scale. With --shard=I/N each shard runs its
part of the grid; the last command to find every run complete writes the report.
"""
from tfprune.commands import program
from tfprune.core import logs

program.select_backend()  # before keras is imported

logs.quiet_native_logs()  # before TensorFlow loads

import os  # noqa: E402

from absl import flags, logging  # noqa: E402

from tfprune.commands import grid_flags  # noqa: E402
from tfprune.configs import scales  # noqa: E402
from tfprune.core import files  # noqa: E402
from tfprune.core.rundir import RunDir  # noqa: E402
from tfprune.engine import config_changes, config_flags  # noqa: E402
from tfprune.engine.config import Config  # noqa: E402
from tfprune.grid import sweep  # noqa: E402
from tfprune.report import claims as claims_lib  # noqa: E402
from tfprune.report import claims_report  # noqa: E402
from tfprune.theory import single_neuron  # noqa: E402

config_flags.define_flags()
flags.adopt_module_key_flags(config_flags)
flags.DEFINE_string("scale", "laptop", f"How big the runs are: {', '.join(scales.names())}.")
flags.DEFINE_list("claims", [], "Claims to check (default: every one): "
                  f"{', '.join(claims_lib.names())}.")
flags.DEFINE_list("seeds", [], "Seeds of every run (default: the scale's, 0,1,2).")
flags.DEFINE_string("out", None, "The folder of the runs and the report (default: "
                    "runs/reproduce/<scale>).")
config_flags.use_grouped_help(extra=("scale", "claims", "seeds", "out") + grid_flags.NAMES)
FLAGS = flags.FLAGS
SETTINGS = "reproduce.json"  # the scale and base configuration a folder's runs were made with


def base_config(scale):
    """The scale's base configuration with the config flags given on the command line, as
    given (each run resolves its own defaults); bad values fail here."""
    given = config_flags.given_values()
    for key in ("workdir", "name", "seed", "config", "smoke"):
        if key in given or FLAGS[key].present:
            raise ValueError(f"--{key} is set per run by reproduce (--out, --seeds, --scale); "
                             "leave it out")
    base = scale.base | given
    Config.from_dict(sweep.DEFAULTS | base)
    return base


def check_folder(out, settings, jobs):
    """Refuses a folder whose runs were made with other settings, before anything runs."""
    path = os.path.join(out, SETTINGS)
    if os.path.exists(path):
        old = files.read_json(path)
        if old["scale"] != settings["scale"]:
            raise ValueError(f"--out={out} holds the {old['scale']} scale's runs, not "
                             f"{settings['scale']}'s; use another --out")
        differing = config_changes.differences(
            *(Config.from_dict(sweep.DEFAULTS | b).to_dict() for b in (old["base"],
                                                                   settings["base"])))
        if differing:
            raise ValueError(f"--out={out} holds runs of other settings "
                             f"({config_changes.describe(differing)}); use another --out")
    for job in jobs:
        if RunDir(job.workdir).is_run():
            differing = sweep.settings_differences(job)
            if differing:
                raise ValueError(f"{job.workdir} holds a run of other settings "
                                 f"({config_changes.describe(differing)}); use another --out, "
                                 "or delete that run")
        elif os.path.isdir(job.workdir) and os.listdir(job.workdir):
            raise ValueError(f"{job.workdir} is not a run directory; use another --out")
    files.write_json(path, settings)


def neuron_results(out, arguments):
    """The single-neuron simulation's results, read from `<out>/single_neuron.json` when it
    was run with the same arguments."""
    path = os.path.join(out, "single_neuron.json")
    if os.path.exists(path):
        results = files.read_json(path)
        if all(results.get(k) == v for k, v in arguments.items()):
            return results
    logging.info("single neuron: %s", arguments)
    results = single_neuron.run(**arguments)
    files.write_json(path, results)
    return results


def judge(chosen, scale, seeds, variants, out):
    """Each chosen claim's `claims_report.Outcome`, with its figure under `<out>/figures`."""
    def run_of(variant, seed):
        return os.path.join(out, sweep.run_dir_name(variant, seed))

    outcomes = []
    for claim in chosen:
        figure = os.path.join("figures", f"{claim.name}.png")
        if claim.theory:
            results = neuron_results(out, scale.neuron)
            claims_report.draw_theory(results, os.path.join(out, figure))
            outcomes.append(claims_report.Outcome(
                claim, claims_lib.judge_theory(claim, results),
                sorted(scale.neuron.items()), figure))
            continue
        runs = [(v, variants[v], [os.path.relpath(run_of(v, s), out) for s in seeds])
                for v in claim.variants]
        try:
            differences = claims_lib.differences(claim, run_of, seeds)
        except ValueError as e:  # e.g. a variant that never pruned (no rounds in common)
            outcomes.append(claims_report.Outcome(claim, None, runs, None, str(e)))
            continue
        claims_report.draw_claim(claim, run_of, seeds, differences, os.path.join(out, figure))
        outcomes.append(claims_report.Outcome(claim, claims_lib.judge(claim, differences), runs,
                                              figure))
    return outcomes


def main(argv):
    config_flags.refuse_arguments(argv)
    logs.setup(FLAGS.verbosity)
    with logs.exit_on_bad_input():
        scale = scales.get(FLAGS.scale)
        chosen = [claims_lib.get(n) for n in FLAGS.claims] or list(claims_lib.CLAIMS)
        try:
            seeds = [int(s) for s in FLAGS.seeds] or list(scale.seeds)
        except ValueError:
            raise ValueError(f"--seeds takes integers, got {','.join(FLAGS.seeds)}") from None
        if len(set(seeds)) < 2:
            raise ValueError(f"--seeds needs at least 2 distinct seeds for an interval (3 or "
                             f"more to judge a claim), got {','.join(map(str, seeds))}")
        out = FLAGS.out or os.path.join("runs", "reproduce", scale.name)
        base = base_config(scale)
        variants = claims_lib.grid([c for c in chosen if not c.theory], scale.variants)
        jobs = sweep.plan(base, variants, seeds, [], out) if variants else []
        check_folder(out, dict(scale=scale.name, base=base), jobs)
        logging.info("reproduce: %d claims, %d runs (%d variants x %d seeds) in %s; scale %s: "
                     "%s", len(chosen), len(jobs), len(variants), len(seeds), out, scale.name,
                     scale.cost)
        options = grid_flags.run_options()
        if jobs:
            sweep.run(base, variants, seeds, [], out, **options)
        missing = [job.label for job in jobs if not job.is_done()]
        if missing:  # another shard's runs
            print(f"{len(jobs) - len(missing)} of {len(jobs)} runs complete; the report is "
                  "written by the command that finds them all complete (run it again)")
            return
        outcomes = judge(chosen, scale, seeds, variants, out)
        preamble = [
            f"Scale **{scale.name}**: {scale.cost}. Seeds: {', '.join(map(str, seeds))}.",
            "Base configuration of every run (the rest: tfprune's defaults): " + ", ".join(
                f"{k}={v}" for k, v in sorted(base.items())) + ".",
            "Each claim's difference is taken per seed and per pruned round (density); the 95% "
            "interval is Student's t over the per-seed means (seeds are the independent "
            "repetitions).",
        ]
        written = claims_report.write(out, "The paper's claims, checked", preamble, outcomes)
    width = max(len(o.claim.name) for o in outcomes)
    for o in outcomes:
        print(f"{o.claim.name:<{width}}  {o.verdict:<14}  {claims_report.statistic(o)}")
    print("\n".join(written))


def run(argv=None):
    """`tfprune reproduce` (also `python launch/reproduce.py`); `argv` defaults to sys.argv."""
    program.run(main, __doc__, argv)


if __name__ == "__main__":
    run()
