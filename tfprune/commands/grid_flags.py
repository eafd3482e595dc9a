"""The flags that say where the runs of a grid run (`tfprune sweep`, `tfprune reproduce`):
in this process, on Ray, or as one shard of a batch-scheduler array."""
from absl import flags

from tfprune.grid import shards

flags.DEFINE_enum("executor", "serial", ["serial", "ray"], "serial: this process, one run after "
                  "another; ray: a Ray task per run (pip install -e \".[ray]\").")
flags.DEFINE_string("ray_address", None, "With --executor=ray: the cluster to join (auto, or "
                    "HOST:PORT); default: start a local Ray in this process.")
flags.DEFINE_float("cpus_per_run", 1.0, "With --executor=ray: CPUs a run reserves.",
                   lower_bound=0.0)
flags.DEFINE_float("gpus_per_run", 0.0, "With --executor=ray: GPUs a run reserves; fractions "
                   "let small runs share a GPU (0.5: two per GPU).", lower_bound=0.0)
flags.DEFINE_integer("max_retries", 1, "Retries of a run that raises or whose process dies, "
                     "before it is reported failed (bad input is never retried).", lower_bound=0)
flags.DEFINE_string("shard", None, "I/N: run only shard I (from 0) of N of the grid, e.g. the "
                    "index of a Slurm array task; the shards together run every run once.")
flags.DEFINE_float("source_timeout", 24 * 3600.0, "With --shard: seconds a run waits for a "
                   "source (mask_from/signs_from) that another shard runs.", lower_bound=0.0)
NAMES = ("executor", "ray_address", "cpus_per_run", "gpus_per_run", "max_retries", "shard",
         "source_timeout")
FLAGS = flags.FLAGS


def run_options():
    """The keyword arguments of `grid.sweep.run` that these flags set (bad combinations:
    a one-line ValueError)."""
    if FLAGS.executor != "ray" and (FLAGS.ray_address or FLAGS.gpus_per_run):
        raise ValueError("--ray_address and --gpus_per_run need --executor=ray")
    options = dict(executor=FLAGS.executor, max_retries=FLAGS.max_retries,
                   shard=shards.parse(FLAGS.shard) if FLAGS.shard else None,
                   source_timeout=FLAGS.source_timeout)
    if FLAGS.executor == "ray":
        options |= dict(ray_address=FLAGS.ray_address, cpus_per_run=FLAGS.cpus_per_run,
                        gpus_per_run=FLAGS.gpus_per_run)
    return options
