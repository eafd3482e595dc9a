"""absl flags generated from a config dataclass, so flags and config never drift apart."""
import dataclasses
import typing

from absl import flags

from tfprune import config as config_lib
from tfprune.configs import registry as configs


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
        kind = hints[field.name]
        valid = config_lib.choices(field)
        if valid:
            flags.DEFINE_enum(field.name, field.default, valid, help_text, flag_values=flag_values)
        elif kind is bool:
            flags.DEFINE_bool(field.name, field.default, help_text, flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(field.name, field.default, help_text, flag_values=flag_values)
        elif kind in (float, typing.Optional[float]):
            flags.DEFINE_float(field.name, field.default, help_text, flag_values=flag_values)
        elif kind is tuple:
            flags.DEFINE_list(field.name, list(field.default), help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(field.name, field.default, help_text, flag_values=flag_values)


def config_from_flags(cls=config_lib.Config, flag_values=flags.FLAGS):
    """Builds a validated `cls` from the parsed flags (over the --config values, if any)."""
    if flag_values["smoke"].value and not flag_values["config"].value:
        raise ValueError("--smoke needs --config")
    base = {}
    if flag_values["config"].value:
        base = configs.get(flag_values["config"].value, smoke=flag_values["smoke"].value)
    return cls(**{f.name: flag_values[f.name].value
                  if flag_values[f.name].present or f.name not in base else base[f.name]
                  for f in dataclasses.fields(cls)})
