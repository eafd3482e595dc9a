"""The flags generated from Config: one per field, grouped by topic in --help."""
import dataclasses
import re

from tfprune.engine.config import Config


def test_help_lists_every_flag_once_under_its_topic():
    from absl import flags

    from tfprune.engine import config as config_lib
    from tfprune.engine import config_flags
    values = flags.FlagValues()
    config_flags.define_flags(flag_values=values)
    text = config_flags.grouped_help(flag_values=values)
    for topic in config_lib.TOPICS:
        assert f"\n{topic}:\n" in "\n" + text
    for field in dataclasses.fields(Config):
        assert len(re.findall(rf"^  --{field.name}:", text, re.M)) == 1, field.name
        assert field.metadata["topic"] in config_lib.TOPICS, field.name
    assert text.index("--method:") < text.index("\nmodel and data:") < text.index("--dataset:")
    assert "[may change when resuming a run]" in text
