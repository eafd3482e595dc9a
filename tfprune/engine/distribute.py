"""Where a run computes: tf.distribute strategies (keras.distribution's DataParallel on JAX),
logical CPU devices and mixed precision."""
import contextlib
import zlib

import numpy as np

from tfprune.masking import kerases

STRATEGIES = ("default", "mirrored", "multiworker")


def split_cpu(count):
    """Splits the CPU into `count` logical devices (before TensorFlow initializes its devices)."""
    cpu = kerases.tf.config.list_physical_devices("CPU")[0]
    current = kerases.tf.config.get_logical_device_configuration(cpu)
    if current and len(current) == count:
        return
    try:
        kerases.tf.config.set_logical_device_configuration(
            cpu, [kerases.tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        have = len(kerases.tf.config.list_logical_devices("CPU"))
        raise ValueError(f"--cpu_devices={count}: TensorFlow already started with {have} CPU "
                         "device(s) in this process; set it in a fresh process") from None


class DataParallel:
    """keras.distribution's DataParallel over every local device (Keras 3 on JAX), behind the
    face of a tf.distribute strategy: `scope()` builds and trains in it."""

    def __init__(self):
        import keras
        self.distribution = keras.distribution.DataParallel(
            devices=keras.distribution.list_devices())
        self.num_replicas_in_sync = len(self.distribution.device_mesh.devices.flat)

    def scope(self):
        return self.distribution.scope()


def split_jax_cpu(count):
    """Splits JAX's CPU into `count` devices (before JAX runs its first operation)."""
    import jax
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:
        have = len(jax.devices("cpu"))
        if have != count:
            raise ValueError(f"--cpu_devices={count}: JAX already started with {have} CPU "
                             "device(s) in this process; set it in a fresh process") from None


def make_strategy(name, cpu_devices=0, backend="tensorflow"):
    """The strategy `name`: default (one device), mirrored (every local GPU, or the logical
    CPU devices when there is no GPU) or multiworker (reads TF_CONFIG). On the JAX backend
    mirrored is keras.distribution's DataParallel and default a no-op scope."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}")
    if backend != "tensorflow":
        if cpu_devices:  # PyTorch takes none (Config refuses it)
            split_jax_cpu(cpu_devices)
        return DataParallel() if name == "mirrored" else NoStrategy()
    if cpu_devices:
        split_cpu(cpu_devices)
    if name == "default":
        return kerases.tf.distribute.get_strategy()
    if name == "multiworker":
        return kerases.tf.distribute.MultiWorkerMirroredStrategy()
    if kerases.tf.config.list_logical_devices("GPU"):
        return kerases.tf.distribute.MirroredStrategy()
    devices = kerases.tf.config.list_logical_devices("CPU")
    return kerases.tf.distribute.MirroredStrategy([d.name for d in devices])


class NoStrategy:
    """One device, outside TensorFlow (Keras 3 on JAX or PyTorch)."""
    num_replicas_in_sync = 1

    def scope(self):
        return contextlib.nullcontext()


def is_chief(strategy):
    """Whether this worker writes the run directory (always, but for non-chief multiworkers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker"
                                             and resolver.task_id == 0)


def workers(strategy):
    """How many worker processes train in step under `strategy` (1 but for a multiworker
    cluster from TF_CONFIG)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return sum(len(cluster.get(job, ())) for job in ("chief", "worker")) or 1


def checksum(arrays):
    """A 32-bit checksum of {name: array} (names and bytes), to compare across workers."""
    crc = 0
    for name in sorted(arrays):
        crc = zlib.crc32(name.encode(), crc)
        crc = zlib.crc32(np.ascontiguousarray(arrays[name]).tobytes(), crc)
    return crc


def agree(strategy, what, names, values):
    """The workers of a multiworker `strategy` meet here and compare their integer `values`
    (named `names`); raises ValueError on every worker if any differ. A no-op for one worker.

    A barrier too: a worker leaves only once every worker has arrived, so what the chief
    wrote before the call is there for the others to read after it.
    """
    if workers(strategy) < 2:
        return
    local = kerases.tf.constant([list(values)], kerases.tf.int64)
    everyone = strategy.gather(
        strategy.experimental_distribute_values_from_function(lambda _: local), axis=0).numpy()
    if (everyone != everyone[0]).any():
        seen = "; ".join(f"replica {i}: " + ", ".join(f"{n}={v}" for n, v in zip(names, row))
                         for i, row in enumerate(everyone.tolist()))
        raise ValueError(f"the workers disagree on {what} ({seen}): every worker must read the "
                         "same run directory: put --workdir on a filesystem they all see")


def set_precision(mixed, flavour=kerases.KERAS2):
    """Sets the global dtype policy of the Keras `flavour`: mixed_float16 on GPU, mixed_bfloat16
    on CPU, or float32.

    Returns:
        The policy's name.
    """
    if not mixed:
        policy = "float32"
    else:
        gpu = kerases.tf.config.list_logical_devices("GPU")
        policy = "mixed_float16" if gpu else "mixed_bfloat16"
    kerases.keras(flavour).mixed_precision.set_global_policy(policy)
    return policy
