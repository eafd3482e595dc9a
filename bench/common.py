"""Shared helpers of the benchmarks: a step timer, resident memory, and a printed table."""
import statistics

from tfprune.engine.monitors import StepTimer  # noqa: F401  (re-exported for the benchmarks)


def rss_mib():
    """Resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def median(values):
    return statistics.median(values) if values else float("nan")


def table(header, rows):
    """Prints a Markdown table (the format bench/RESULTS.md keeps)."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(cell(v) for v in row) + " |")
