"""absl flags generated from a config dataclass, so flags and config never drift apart."""
import dataclasses
import typing

from absl import flags

from tfprune import config as config_lib


def define_flags(cls=config_lib.Config, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `cls`, with the field's default and help."""
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
    """Builds a validated `cls` from the parsed flags."""
    return cls(**{f.name: flag_values[f.name].value for f in dataclasses.fields(cls)})
