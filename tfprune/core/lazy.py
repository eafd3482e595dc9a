"""Names that load their module on first use: "package.module:attribute.path" strings, so that
registries and the config can list what exists without importing TensorFlow."""
import importlib


def resolve(spec):
    """The object that `spec` ("module:attribute.path") names; any other value is itself.

    >>> resolve("os.path:join")("a", "b")
    'a/b'
    """
    if not isinstance(spec, str):
        return spec
    module, _, path = spec.partition(":")
    value = importlib.import_module(module)
    for name in path.split(".") if path else ():
        value = getattr(value, name)
    return value
