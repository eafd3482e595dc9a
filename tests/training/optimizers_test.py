"""The optimizer helpers, for either Keras: a reset to step 0, and the rate of the last step."""
import numpy as np
import pytest

import tfprune
from tfprune.masking import kerases
from tfprune.training import optimizers


@pytest.mark.parametrize("flavour", ["2", "3"])
def test_reset_zeroes_step_and_momentum_and_the_rate_is_the_last_steps(flavour):
    keras = kerases.keras(flavour)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    schedule = tfprune.RoundSchedule(0.1, steps_per_epoch=4, epochs=2, warmup_epochs=1)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "mse")
    x, y = np.ones((16, 3), np.float32), np.zeros((16, 2), np.float32)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert optimizers.current_lr(model.optimizer) == pytest.approx(0.1)  # end of the warm-up
    optimizers.reset_optimizer(model.optimizer)
    inner = optimizers.inner_optimizer(model.optimizer)
    assert int(np.asarray(inner.iterations)) == 0
    assert all(not np.any(np.asarray(v.numpy())) for v in inner.variables
               if v is not getattr(inner, "_learning_rate", None))
