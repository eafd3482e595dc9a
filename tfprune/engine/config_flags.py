"""absl flags generated from a config dataclass, so flags and config never drift apart."""
import dataclasses
import sys
import textwrap
import typing

from absl import flags

from tfprune.configs import registry as configs
from tfprune.engine import config as config_lib


def define_flags(cls=config_lib.Config, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `cls`, with the field's default and help, plus
    --config (a named configuration whose values replace the defaults) and --smoke."""
    flags.DEFINE_enum("config", None, configs.names(), "A named configuration (the paper's "
                      "protocols); flags given explicitly override its values.",
                      flag_values=flag_values)
    flags.DEFINE_bool("smoke", False, "With --config: the same run shrunk to seconds.",
                      flag_values=flag_values)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        help_text = field.metadata["help"]
        if field.metadata["role"] == config_lib.FREE:
            help_text += " [may change when resuming a run]"
        elif field.metadata["role"] == config_lib.RETRAIN:
            help_text += " [may change to retrain a diverged round]"
        kind = hints[field.name]
        valid = config_lib.choices(field)
        if valid:
            flags.DEFINE_enum(field.name, field.default, valid, help_text, flag_values=flag_values)
        elif kind is bool:
            flags.DEFINE_bool(field.name, field.default, help_text, flag_values=flag_values)
        elif kind in (int, typing.Optional[int]):
            flags.DEFINE_integer(field.name, field.default, help_text, flag_values=flag_values)
        elif kind in (float, typing.Optional[float]):
            flags.DEFINE_float(field.name, field.default, help_text, flag_values=flag_values)
        elif kind is tuple:
            flags.DEFINE_list(field.name, list(field.default), help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(field.name, field.default, help_text, flag_values=flag_values)


def grouped_help(cls=config_lib.Config, flag_values=flags.FLAGS, extra=()):
    """--help text: the config's flags under their topics, --config/--smoke under "named
    configurations", then `extra` (the launcher's own flags) under "this launcher"."""
    groups = {topic: [] for topic in config_lib.TOPICS}
    for field in dataclasses.fields(cls):
        groups.setdefault(field.metadata["topic"] or "other", []).append(field.name)
    groups["named configurations"] = ["config", "smoke"]
    groups["this launcher"] = [name for name in extra if name in flag_values]
    lines = []
    for topic, names in groups.items():
        if names:
            lines.append(f"\n{topic}:")
            lines += [_flag_help(flag_values[name]) for name in names]
    lines.append("\n(-v 1 or --verbosity=1: TensorFlow's own log lines too; --helpfull: every "
                 "flag, absl's included)")
    return "\n".join(lines).lstrip("\n")


def _flag_help(flag):
    text = f"--{flag.name}: {flag.help}"  # enums' help starts with their values
    default = flag.default_as_str or "None"
    return textwrap.fill(f"{text} (default: {default})", width=98, initial_indent="  ",
                         subsequent_indent="    ", break_long_words=False)


def use_grouped_help(extra=(), cls=config_lib.Config, flag_values=flags.FLAGS):
    """Makes the launcher's --help print `grouped_help` (absl prints the main module's flags
    as one list)."""
    object.__setattr__(flag_values, "main_module_help",
                       lambda: grouped_help(cls, flag_values, extra))


def given_values(cls=config_lib.Config, flag_values=flags.FLAGS):
    """The fields that the command line sets, unresolved: the --config's values, then the flags
    given explicitly. A grid passes them to each of its runs, which resolves its own defaults
    (e.g. gmp's --final_density from that run's --rounds)."""
    if flag_values["smoke"].value and not flag_values["config"].value:
        raise ValueError("--smoke needs --config")
    base = {}
    if flag_values["config"].value:
        base = configs.get(flag_values["config"].value, smoke=flag_values["smoke"].value)
    return base | {f.name: flag_values[f.name].value for f in dataclasses.fields(cls)
                   if flag_values[f.name].present}


def config_from_flags(cls=config_lib.Config, flag_values=flags.FLAGS):
    """Builds a validated `cls` from the parsed flags (over the --config values, if any)."""
    given = given_values(cls, flag_values)
    return cls(**{f.name: given[f.name] if f.name in given else flag_values[f.name].value
                  for f in dataclasses.fields(cls)})


def summary(config):
    """The values of `config` that differ from the defaults, as "key=value ..." (the whole
    configuration is in the run's config.json)."""
    defaults = type(config)()
    changed = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)
               if getattr(config, f.name) != getattr(defaults, f.name) or f.name == "method"]
    return " ".join(changed)


def refuse_arguments(argv):
    """Exits with a one-line error if `argv` (absl's, after the flags) holds positional
    arguments: every option of a launcher is a --name=value flag."""
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments: {' '.join(argv[1:])} (flags are --name=value)")
