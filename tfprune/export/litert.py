"""LiteRT (TFLite) flatbuffers of a Keras model: convert, count their weights, run them.

Conversion uses TensorFlow's converter (`tf.lite.TFLiteConverter`); the flatbuffers run in
the `ai-edge-litert` interpreter when it is installed (`pip install 'tfprune[export]'`),
else in the one TensorFlow bundles (`tf.lite.Interpreter`); `interpreter` says which.
Both apply XNNPACK, LiteRT's CPU delegate, by default ("xnnpack"); "builtin" runs the
reference kernels without it.

    FLOAT       float32 weights and compute
    SPARSE      float32, pruned kernels stored sparsely (`Optimize.EXPERIMENTAL_SPARSITY`):
                the converter encodes tensors sparse enough, and inserts a DENSIFY op before
                every kernel that cannot run on them
    INT8        post-training int8 quantization (weights and activations, float fallback
                where an op has no int8 kernel), calibrated on examples; float input/output
"""
import importlib
import warnings

import numpy as np
from absl import logging
from tensorflow.python.framework import convert_to_constants  # noqa: E402  (TF's own freezer)

from tfprune.core import logs
from tfprune.masking.kerases import tf

FLOAT, SPARSE, INT8 = "float", "sparse", "int8"
KINDS = (FLOAT, SPARSE, INT8)
INTERPRETERS = ("auto", "litert", "tensorflow")
XNNPACK, BUILTIN = "xnnpack", "builtin"  # op resolvers: with XNNPACK, or reference kernels only


def convert(model, input_shape, kind=FLOAT, calibration=None):
    """The flatbuffer (bytes) of Keras `model` (either Keras) with a dynamic batch size.

    Args:
        model: a Keras model without masks (e.g. `masking.strip`'s), called in inference mode.
        input_shape: the shape of one example, e.g. (40, 1).
        kind: FLOAT, SPARSE or INT8.
        calibration: for INT8, an iterable of float32 batches (numpy) to calibrate on.

    Raises:
        ValueError: `kind` is unknown, INT8 without calibration, or the converter fails.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown LiteRT kind {kind!r}; valid: {', '.join(KINDS)}")
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec([None, *input_shape], tf.float32))
    # Weights become constants first (what TFLiteConverter does for tf_keras models, not for
    # Keras 3's, whose variables it would keep as resource variables, unfolded and unsparsified).
    frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    if kind == SPARSE:
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    elif kind == INT8:
        if calibration is None:
            raise ValueError("int8 conversion needs calibration data")
        batches = list(calibration)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([tf.constant(b, tf.float32)] for b in batches)
    try:
        return converter.convert()
    except Exception as e:  # the converter raises ConverterError, RuntimeError, ValueError ...
        message = logs.one_line(e)
        raise ValueError(f"the LiteRT converter failed ({kind}): {type(e).__name__}: "
                         f"{message}") from e


def _schema():
    """The flatbuffer schema module (TensorFlow's copy, else LiteRT's)."""
    for name in ("tensorflow.lite.python.schema_py_generated",
                 "ai_edge_litert.schema_py_generated"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("no TFLite flatbuffer schema module (TensorFlow or ai-edge-litert)")


_WEIGHT_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT8": np.int8}


def weight_counts(flatbuffer):
    """Counts of the weights in a flatbuffer, read from the file itself (nothing runs).

    Weights are the constant float32, float16 or int8 tensors of rank >= 2 (conv, dense and
    embedding kernels, with BatchNorm folded in); a sparse tensor stores only some of its
    values, and its size is that of its dense shape.

    Returns:
        {"weights": entries of the weight tensors, "nonzero_weights": their nonzero
        entries, "sparse_tensors": tensors stored sparsely, "densify_ops": DENSIFY ops,
        "ops": {op name: count}}.
    """
    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    type_names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    counts = {"weights": 0, "nonzero_weights": 0, "sparse_tensors": 0, "densify_ops": 0,
              "ops": {}}
    for graph in model.subgraphs:
        for op in graph.operators:
            name = op_names.get(codes[op.opcodeIndex], "CUSTOM")
            counts["ops"][name] = counts["ops"].get(name, 0) + 1
        counts["densify_ops"] = counts["ops"].get("DENSIFY", 0)
        for tensor in graph.tensors:
            dtype = _WEIGHT_TYPES.get(type_names.get(tensor.type))
            values = _buffer(model, flatbuffer, tensor.buffer)
            if dtype is None or values is None or tensor.shape is None or len(tensor.shape) < 2:
                continue
            counts["weights"] += int(np.prod(tensor.shape))
            counts["nonzero_weights"] += int(np.count_nonzero(np.frombuffer(values, dtype)))
            counts["sparse_tensors"] += tensor.sparsity is not None
    return counts


def _buffer(model, flatbuffer, index):
    """The bytes of buffer `index`, or None for a tensor without constant data."""
    buffer = model.buffers[index]
    if buffer.data is not None and len(buffer.data):
        return np.asarray(buffer.data, np.uint8).tobytes()
    if buffer.offset and buffer.size:  # large models keep buffers after the flatbuffer
        return bytes(flatbuffer[buffer.offset:buffer.offset + buffer.size])
    return None


def interpreter_class(which="auto"):
    """The interpreter class and a description of it ("ai-edge-litert 2.3.0", ...).

    Args:
        which: "litert" (ai-edge-litert, which must be installed), "tensorflow" (the
            interpreter TensorFlow bundles) or "auto" (LiteRT if installed).
    """
    if which not in INTERPRETERS:
        raise ValueError(f"--interpreter={which!r} is not valid; valid: {', '.join(INTERPRETERS)}")
    if which in ("auto", "litert"):
        try:
            module = importlib.import_module("ai_edge_litert.interpreter")
            from importlib import metadata
            return module.Interpreter, f"ai-edge-litert {metadata.version('ai-edge-litert')}"
        except ImportError as e:
            if which == "litert":
                raise ValueError("--interpreter=litert: ai-edge-litert is not installed "
                                 "(pip install 'tfprune[export]')") from e
            logging.info("ai-edge-litert is not installed (%s): using TensorFlow's bundled "
                         "tf.lite.Interpreter", e)
    if not getattr(interpreter_class, "told", False):
        logging.info("LiteRT interpreter: TensorFlow's bundled tf.lite.Interpreter (TensorFlow "
                     "deprecates it in favour of ai-edge-litert)")
        interpreter_class.told = True
    return tf.lite.Interpreter, f"tensorflow {tf.__version__} tf.lite.Interpreter"


class Runner:
    """Runs a flatbuffer on batches of one fixed size (smaller batches are padded).

    Args:
        flatbuffer: the model's bytes.
        batch_size: rows per invoke.
        which: see `interpreter_class`.
        resolver: XNNPACK (LiteRT's default CPU delegate) or BUILTIN (reference kernels).
        threads: CPU threads of the interpreter.
    """

    def __init__(self, flatbuffer, batch_size, which="auto", resolver=XNNPACK, threads=1):
        cls, self.interpreter_name = interpreter_class(which)
        module = importlib.import_module(cls.__module__)
        resolvers = {XNNPACK: module.OpResolverType.AUTO,
                     BUILTIN: module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        if resolver not in resolvers:
            raise ValueError(f"unknown op resolver {resolver!r}; valid: {XNNPACK}, {BUILTIN}")
        with warnings.catch_warnings():  # TensorFlow's "deprecated": said once by
            warnings.filterwarnings(  # interpreter_class, not for every interpreter
                "ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
            self.interpreter = cls(model_content=bytes(flatbuffer), num_threads=threads,
                                   experimental_op_resolver_type=resolvers[resolver])
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = batch_size
        shape = [batch_size, *self.input["shape"][1:]]
        self.interpreter.resize_tensor_input(self.input["index"], shape)
        self.interpreter.allocate_tensors()

    def __call__(self, x):
        """The model's outputs for `x` (at most `batch_size` rows), as numpy."""
        x = np.asarray(x, np.float32)
        n = len(x)
        if n > self.batch_size:
            raise ValueError(f"{n} rows for a runner of batch size {self.batch_size}")
        if n < self.batch_size:
            x = np.concatenate([x, np.zeros((self.batch_size - n, *x.shape[1:]), x.dtype)])
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])[:n]

    def invoker(self, x):
        """A call without arguments that runs the model on `x` (`batch_size` rows): what a
        latency measurement times."""
        self.interpreter.set_tensor(self.input["index"], np.asarray(x, np.float32))
        return self.interpreter.invoke

    def predict(self, batches):
        """The outputs for every batch of an iterable, concatenated (larger batches split)."""
        outputs = []
        for x in batches:
            x = np.asarray(x)
            for start in range(0, len(x), self.batch_size):
                outputs.append(self(x[start:start + self.batch_size]))
        return np.concatenate(outputs)


def calibration_batches(dataset, examples):
    """The first `examples` inputs of a dataset of (x, y) batches, as float32 batches."""
    taken, batches = 0, []
    for x, _ in dataset:
        if taken >= examples:
            break
        x = np.asarray(x, np.float32)[:examples - taken]
        batches.append(x)
        taken += len(x)
    if not batches:
        raise ValueError("no calibration examples: the training set is empty")
    return batches
