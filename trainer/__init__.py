"""The training pipeline behind ``bash-ai train`` and ``bash-ai data``.

Imports ``bash_ai`` (config, tokenizer, model, checkpoint format); ``bash_ai`` never imports this
package except lazily inside the ``train``, ``data`` and ``eval`` command bodies (``eval`` reads
the evaluation splits from the dataset store); ``tests/test_layers.py`` holds that rule.
"""
