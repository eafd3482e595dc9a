"""The models people bring, built with either Keras: applications, a transformer block, a
transfer-learning model around a backbone, and a subclassed model (tests share them)."""
from tfprune.masking import kerases

SHAPE = (32, 32, 3)
CLASSES = 3


def resnet50(k):
    return k.applications.ResNet50(weights=None, input_shape=SHAPE, classes=CLASSES,
                                 classifier_activation=None)


def mobilenetv2(k):
    return k.applications.MobileNetV2(weights=None, input_shape=SHAPE, classes=CLASSES,
                                      alpha=0.35, classifier_activation=None)


def efficientnetb0(k):
    return k.applications.EfficientNetB0(weights=None, input_shape=SHAPE, classes=CLASSES,
                                 classifier_activation=None)


def transformer(k):
    """A pre-norm transformer block over 8 patches of 384 values (MultiHeadAttention's
    projections are EinsumDense layers inside it)."""
    inputs = k.Input(SHAPE)
    x = k.layers.Reshape((8, 384), name="patches")(inputs)
    x = k.layers.Dense(32, name="embed")(x)
    h = k.layers.LayerNormalization(name="ln1")(x)
    x = k.layers.Add(name="res1")([x, k.layers.MultiHeadAttention(4, 8, name="mha")(h, h)])
    h = k.layers.LayerNormalization(name="ln2")(x)
    h = k.layers.Dense(64, activation="relu", name="mlp1")(h)
    x = k.layers.Add(name="res2")([x, k.layers.Dense(32, name="mlp2")(h)])
    x = k.layers.GlobalAveragePooling1D(name="pool")(x)
    return k.Model(inputs, k.layers.Dense(CLASSES, name="head")(x), name="transformer")


def transfer(k):
    """The transfer-learning shape: a backbone model inside a Sequential, then a head."""
    backbone = k.applications.MobileNetV2(weights=None, input_shape=SHAPE, include_top=False,
                                          alpha=0.35)
    return k.Sequential([k.Input(SHAPE), backbone, k.layers.GlobalAveragePooling2D(name="gap"),
                         k.layers.Dense(CLASSES, name="head")], name="transfer")


def subclassed(k):
    """A subclassed model with a depthwise-separable block and a custom layer inside."""

    class Block(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.depthwise = k.layers.DepthwiseConv2D(3, padding="same", name="dw")
            self.pointwise = k.layers.Conv2D(16, 1, name="pw")
            self.norm = k.layers.BatchNormalization(name="bn")

        def call(self, x, training=None):
            return k.activations.relu(self.norm(self.pointwise(self.depthwise(x)),
                                                training=training))

    class Net(k.Model):
        def __init__(self):
            super().__init__(name="net")
            self.stem = k.layers.Conv2D(8, 3, strides=2, name="stem")
            self.block = Block(name="block")
            self.sep = k.layers.SeparableConv2D(16, 3, name="sep")
            self.pool = k.layers.GlobalAveragePooling2D(name="gap")
            self.head = k.layers.Dense(CLASSES, name="head")

        def call(self, x, training=None):
            return self.head(self.pool(self.sep(self.block(self.stem(x), training=training))))

    model = Net()
    model(k.ops.zeros((1,) + SHAPE) if hasattr(k, "ops") else k.backend.zeros((1,) + SHAPE))
    return model


MODELS = {f.__name__: f for f in (resnet50, mobilenetv2, efficientnetb0, transformer, transfer,
                                  subclassed)}


def build(name, flavour):
    k = kerases.keras(flavour)
    k.utils.set_random_seed(0)
    return MODELS[name](k)
