"""The smoke switch shared by the named configs: the same run, shrunk to seconds."""

SMOKE = dict(rounds=1, epochs=1, warmup_epochs=0, rewind_epoch=0, batch_size=16,
             lr_drop_epochs=())


def shrink(config, smoke, width):
    """Returns `config`, or with `smoke` its shrunk copy at model `width`."""
    return config | SMOKE | {"width": width} if smoke else config
