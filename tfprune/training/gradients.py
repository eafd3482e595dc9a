"""Gradients of the prunable kernels, on either Keras and on TensorFlow or JAX: of the loss on
a batch (RigL's growth, SNIP) and of SynFlow's synaptic flow. The model's variables are the
same afterwards (BatchNorm statistics included): the gradients are read, nothing trains.

TensorFlow (tf_keras, or Keras 3 on it) takes them with a GradientTape; JAX with `jax.grad`
over the model's `stateless_call`. PyTorch is refused in one line.
"""
import numpy as np

from tfprune.masking import kerases, masked_model


def loss_gradients(model, x, y):
    """{kernel name: dL/dw} of the compiled loss on the batch (x, y), in training mode (as a
    training step sees it), pruned entries included."""
    loss = model.loss
    if not callable(loss):
        raise ValueError(f"model {model.name!r}: gradients need a compiled loss object, got "
                         f"{loss!r}")
    return _gradients(model, lambda out: loss(y, out), x, training=True)


def synflow_gradients(model):
    """(R, {kernel name: dR/dtheta}) of SynFlow's objective R = 1' (prod_l |theta_l|) 1: the
    model's output summed, with every variable replaced by its absolute value and an all-ones
    input, in inference mode (Tanaka et al., 2020)."""
    ones = np.ones((1, *model.inputs[0].shape[1:]), np.float32)
    return _gradients(model, None, ones, training=False, absolute=True, with_value=True)


def _outputs(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _backend(model):
    if kerases.of(model) == kerases.KERAS2:
        return "tensorflow"
    return kerases.keras(kerases.KERAS3).backend.backend()


def _gradients(model, objective, x, training, absolute=False, with_value=False):
    """`objective(outputs)`, or (None) the sum of the outputs, differentiated; `absolute`:
    at |every variable|, by |theta|; `with_value`: (its value, the gradients)."""
    backend = _backend(model)
    names = list(masked_model.pruning_vars(model))
    kernels = [w for w, _ in masked_model.pruning_vars(model).values()]
    if backend == "tensorflow":
        value, grads = _tensorflow(model, objective, x, training, absolute, kernels)
    elif backend == "jax":
        value, grads = _jax(model, objective, x, training, absolute, kernels)
    else:
        raise ValueError(f"gradients of the kernels (SNIP, SynFlow, RigL) are computed on the "
                         f"tensorflow or jax backend, not {backend}")
    grads = {k: np.asarray(g, np.float64) for k, g in zip(names, grads)}
    return (float(value), grads) if with_value else grads


def _tensorflow(model, objective, x, training, absolute, kernels):
    from tfprune.masking.kerases import tf
    saved = [(v, np.asarray(v.numpy())) for v in model.variables]
    try:
        if absolute:
            for v, original in saved:
                v.assign(np.abs(original))
        with tf.GradientTape() as tape:
            outputs = model(x, training=training)
            value = (objective(outputs) if objective else
                     sum(tf.reduce_sum(tf.cast(o, tf.float32)) for o in _outputs(outputs)))
        grads = tape.gradient(value, kernels)
    finally:  # BatchNorm's statistics (training mode), tfmot's step, the |theta| of SynFlow
        for v, original in saved:
            v.assign(original)
    return np.asarray(value), [np.zeros(tuple(k.shape)) if g is None else np.asarray(g)
                               for k, g in zip(kernels, grads)]


def _jax(model, objective, x, training, absolute, kernels):
    import jax
    import jax.numpy as jnp
    trainable, other = model.trainable_variables, model.non_trainable_variables
    where = {id(v): i for i, v in enumerate(trainable)}
    missing = [k.path for k in kernels if id(k) not in where]
    if missing:
        raise ValueError(f"kernels {missing} of {model.name!r} are not trainable: no gradient")
    prepare = jnp.abs if absolute else (lambda a: a)

    x = np.asarray(x)

    def value(trainable_values, other_values):
        outputs, _ = model.stateless_call(trainable_values, other_values, x, training=training)
        if objective:
            return objective(outputs)
        return sum(jnp.sum(o.astype("float32")) for o in _outputs(outputs))

    # at |theta| itself when `absolute`: the gradient is by |theta|, not through abs
    total, grads = jax.value_and_grad(value)([prepare(v.value) for v in trainable],
                                             [prepare(v.value) for v in other])
    return np.asarray(total), [np.asarray(grads[where[id(k)]]) for k in kernels]
