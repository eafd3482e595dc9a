"""Resume arithmetic: the epochs each round starts at, goes on from, and has left."""
from tfprune.engine import methods, resume
from tfprune.engine.config import Config


def test_the_epochs_to_train_count_what_each_method_trains():
    imp = Config(method="imp", rounds=3, epochs=10, warmup_epochs=2, rewind_epoch=2)
    lrr = Config(method="lrr", rounds=3, epochs=10)
    assert resume.epochs_to_train(imp, methods.get("imp"), 0, None) == 10 + 3 * 8
    assert resume.epochs_to_train(imp, methods.get("imp"), 2, None) == 2 * 8
    assert resume.epochs_to_train(imp, methods.get("imp"), 2, {"epoch": 5}) == 5 + 8
    assert resume.epochs_to_train(lrr, methods.get("lrr"), 0, None) == 40
    assert resume.epochs_to_train(lrr, methods.get("lrr"), 1, {"epoch": 0}) == 30
