"""Bundled data files (the default model). Installed as the ``bash_ai.assets`` package."""
