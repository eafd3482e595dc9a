"""Tiny ImageNet read from a local copy of the official tiny-imagenet-200 folder."""
import os

from tfprune.datasets.base import Data, make_test, make_train, normalize
from tfprune.masking.kerases import tf

FOLDER = "tiny-imagenet-200"
SIZE = 64
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
LAYOUT = (
    f"<data_dir>/{FOLDER}/ with wnids.txt, train/<wnid>/images/*.JPEG, val/images/*.JPEG "
    "and val/val_annotations.txt (unzip the official tiny-imagenet-200.zip into data_dir)"
)


def _missing(path) -> FileNotFoundError:
    return FileNotFoundError(f"Tiny ImageNet: {path} not found; expected layout {LAYOUT}")


def find_root(data_dir) -> str:
    """Returns the tiny-imagenet-200 folder: `data_dir/tiny-imagenet-200` or `data_dir` itself.

    Args:
        data_dir: Folder holding `tiny-imagenet-200/`, or that folder itself.

    Returns:
        The path of the folder holding `wnids.txt`.

    Raises:
        FileNotFoundError: Neither candidate holds `wnids.txt`.
    """
    if data_dir is None:
        raise FileNotFoundError(f"Tiny ImageNet needs data_dir; expected layout {LAYOUT}")
    data_dir = os.path.expanduser(os.fspath(data_dir))
    for root in (os.path.join(data_dir, FOLDER), data_dir):
        if os.path.isfile(os.path.join(root, "wnids.txt")):
            return root
    raise _missing(os.path.join(data_dir, FOLDER, "wnids.txt"))


def file_lists(root: str):
    """Lists the train and val images with their labels.

    The label of a class is the position of its wnid in `sorted(wnids)`.

    Args:
        root: The tiny-imagenet-200 folder.

    Returns:
        `(wnids, train_files, train_labels, val_files, val_labels)` as Python lists.

    Raises:
        FileNotFoundError: A piece of the expected layout is missing.
    """
    with open(os.path.join(root, "wnids.txt")) as f:
        wnids = sorted({line.strip() for line in f if line.strip()})
    index = {w: i for i, w in enumerate(wnids)}
    train_files, train_labels = [], []
    for wnid in wnids:
        folder = os.path.join(root, "train", wnid, "images")
        if not os.path.isdir(folder):
            raise _missing(folder)
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".jpeg", ".jpg")))
        train_files += [os.path.join(folder, n) for n in names]
        train_labels += [index[wnid]] * len(names)
    annotations = os.path.join(root, "val", "val_annotations.txt")
    if not os.path.isfile(annotations):
        raise _missing(annotations)
    val_files, val_labels = [], []
    with open(annotations) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            if parts[1] not in index:
                raise ValueError(
                    f"Tiny ImageNet: {annotations} names wnid {parts[1]!r} not in wnids.txt"
                )
            val_files.append(os.path.join(root, "val", "images", parts[0]))
            val_labels.append(index[parts[1]])
    if not train_files:
        raise _missing(os.path.join(root, "train", "<wnid>", "images", "*.JPEG"))
    if not val_files:
        raise _missing(f"any entry in {annotations}")
    return wnids, train_files, train_labels, val_files, val_labels


def _train_example(path, label, seed):
    """Random resized crop (area 0.08-1, aspect 3/4-4/3) to 64x64 + random flip, normalized."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    data = tf.io.read_file(path)
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.image.extract_jpeg_shape(data),
        bounding_boxes=tf.constant([0.0, 0.0, 1.0, 1.0], shape=[1, 1, 4]),
        seed=crop_seed,
        min_object_covered=0.0,
        aspect_ratio_range=(3 / 4, 4 / 3),
        area_range=(0.08, 1.0),
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    window = tf.stack([begin[0], begin[1], size[0], size[1]])
    image = tf.image.decode_and_crop_jpeg(data, window, channels=3)
    image = tf.image.resize(image, (SIZE, SIZE))  # float32 in [0, 255]
    image = tf.image.stateless_random_flip_left_right(image, seed=flip_seed)
    return normalize(image, MEAN, STD), label


def _test_example(path, label):
    image = tf.image.decode_jpeg(tf.io.read_file(path), channels=3)
    image = tf.image.resize(image, (SIZE, SIZE))
    return normalize(image, MEAN, STD), label


def load(batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads Tiny ImageNet (64x64x3, one class per wnid) from a local folder.

    Args:
        batch_size: Examples per batch.
        seed: Seed of the shuffle order and of the augmentation.
        data_dir: Folder holding `tiny-imagenet-200/`, or that folder itself.
        download: Ignored; the data must already be on disk.

    Returns:
        The `Data` bundle; the test split is the official val split.

    Raises:
        FileNotFoundError: The folder or a piece of its layout is missing.
    """
    del download
    wnids, train_files, train_labels, val_files, val_labels = file_lists(find_root(data_dir))

    def slices(files, labels):
        return tf.data.Dataset.from_tensor_slices(
            (tf.constant(files), tf.constant(labels, tf.int64))
        )

    # Shuffle the file names; decoding happens per epoch, so nothing big is cached.
    train = make_train(slices(train_files, train_labels), batch_size, seed,
                       augment_fn=_train_example, cache=False)
    return Data(
        train=train.batches,
        epochs=train.epochs,
        test=make_test(
            slices(val_files, val_labels), batch_size, map_fn=_test_example, cache=False
        ),
        num_classes=len(wnids),
        input_shape=(SIZE, SIZE, 3),
        train_size=len(train_files),
        test_size=len(val_files),
    )
