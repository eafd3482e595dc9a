"""The dataset loaders, by name (registry.py); base.py holds the tf.data helpers they share."""
