"""What the launchers print: tfprune's own lines by default, TensorFlow's too with -v 1, and
bad input as one "error: ..." line (`exit_on_bad_input`).

TensorFlow's native (C++) start-up and runtime lines ("oneDNN custom operations are on",
"Could not find cuda drivers", loop-optimizer notes) are written to file descriptor 2 before
its logging is initialised, so no environment variable silences them. `quiet_native_logs`
therefore gives Python a copy of the terminal's stderr and filters what native code writes to
descriptor 2: known native log lines are dropped, anything else (a fatal check, a crash report)
still reaches the terminal.
"""
import atexit
import contextlib
import logging
import os
import re
import sys
import threading

from absl import logging as absl_logging

# Native log lines "I0000 00:00:1795537174.246906   28761 port.cc:153] ..." (info, warning and
# the harmless no-GPU cuInit error), the pre-initialisation banner and the continuation of the
# CPU-instructions note. Fatal ("F...") lines and everything else pass.
_NATIVE_NOISE = re.compile(
    r"^(?:[IW]\d{4} \d\d:\d\d:[\d.]+\s+\d+\s+\S+\.(?:cc|h|cpp):\d+\]"
    r"|E\d{4} \d\d:\d\d:[\d.]+\s+\d+\s+\S+\.cc:\d+\] failed call to cuInit"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|To enable the following instructions:)")
_QUIET_LOGGERS = ("tensorflow", "h5py", "jax._src.xla_bridge")
# A file of an installed library other than tfprune (TensorFlow logs "Sharding callback
# duration" through absl at every checkpoint).
_LIBRARY_FILE = re.compile(r"[/\\](?:site|dist)-packages[/\\](?!tfprune[/\\])")


def is_native_noise(line):
    """Whether `line` is one of TensorFlow's native log lines that the default hides."""
    return bool(_NATIVE_NOISE.match(line))


def verbosity(argv):
    """The absl verbosity that `argv` asks for (-v N, -v=N, --verbosity=N, --v=N; default 0),
    read before flags are parsed, because native lines start when TensorFlow is imported."""
    for i, arg in enumerate(argv[1:], start=1):
        name, eq, value = arg.partition("=")
        if name in ("-v", "--v", "-verbosity", "--verbosity"):
            value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
            try:
                return int(value)
            except ValueError:
                return 0  # absl reports the bad value when it parses the flags
    return 0


def quiet_native_logs(argv=None):
    """Hides TensorFlow's native log lines unless `argv` asks for -v 1 or more.

    Call it before TensorFlow is imported (first thing in a launcher). Python's stderr (and
    absl's handler) move to a duplicate of descriptor 2; a daemon thread forwards what native
    code writes there, minus the known noise.
    """
    if verbosity(sys.argv if argv is None else argv) > 0 or getattr(quiet_native_logs, "on", 0):
        return
    quiet_native_logs.on = True
    terminal = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)
    sys.stderr.flush()
    sys.stderr = os.fdopen(terminal, "w", buffering=1, closefd=False)
    absl_logging.get_absl_handler().python_handler.stream = sys.stderr

    def forward():
        with os.fdopen(read, "rb") as pipe:
            for line in pipe:
                if not is_native_noise(line.decode(errors="replace")):
                    os.write(terminal, line)

    thread = threading.Thread(target=forward, name="tfprune-native-logs", daemon=True)
    thread.start()

    def drain():  # native lines written just before exit still get through
        os.dup2(terminal, 2)
        thread.join(timeout=1)

    atexit.register(drain)


def setup(level):
    """Python-side logging at absl verbosity `level`: at 0, tfprune's lines only, as
    "HH:MM:SS message"; at 1 or more, TensorFlow's INFO lines and absl's full prefix too."""
    if level > 0:
        return
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    handler = absl_logging.get_absl_handler()
    handler.setFormatter(_Short())
    handler.addFilter(_own_info)


def _own_info(record):
    """Keeps warnings and errors from anywhere, and the info lines of tfprune's own code."""
    return record.levelno >= logging.WARNING or not _LIBRARY_FILE.search(record.pathname)


class _Short(logging.Formatter):
    """"16:19:42 message", with the level named from WARNING up."""

    def __init__(self):
        super().__init__("%(asctime)s %(message)s", datefmt="%H:%M:%S")

    def formatMessage(self, record):
        if record.levelno >= logging.WARNING:
            record.message = f"{record.levelname}: {record.message}"
        return super().formatMessage(record)


def one_line(error, limit=300):
    """An error's text on one line (whitespace runs collapsed), at most `limit` characters.

    >>> one_line(ValueError("bad\\n   input"))
    'bad input'
    """
    return " ".join(str(error).split())[:limit]


@contextlib.contextmanager
def exit_on_bad_input():
    """A launcher's body: a ValueError or OSError (bad input, missing or unreachable data, a
    failed check) ends the process with "error: <message>" and exit status 1, nothing else;
    -v 1 logs the traceback first."""
    try:
        yield
    except (ValueError, OSError) as e:
        absl_logging.vlog(1, "traceback", exc_info=True)
        sys.exit(f"error: {e}")
