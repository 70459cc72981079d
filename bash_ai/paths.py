"""Every filesystem location bash-ai uses, in one place.

``BASH_AI_HOME`` overrides all of them (tests point it at a temp dir). Nothing is created
at import time: callers ask for a directory and ``ensure`` it when they write.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "bash-ai"
HOME_ENV = "BASH_AI_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Models, datasets, history, parsed man pages."""
    return _app_dir("data", "user_data_dir")


def cache_dir() -> Path:
    """Re-creatable things: tokenized dataset arrays, downloads in flight."""
    return _app_dir("cache", "user_cache_dir")


def config_dir() -> Path:
    return _app_dir("config", "user_config_dir")


def _app_dir(below_home: str, platformdirs_function: str) -> Path:
    """``$BASH_AI_HOME/<below_home>`` when that is set, else the platform's own folder for bash-ai."""
    home = _home()
    if home is not None:
        return home / below_home
    import platformdirs

    return Path(getattr(platformdirs, platformdirs_function)(APP_NAME, appauthor=False))


def models_dir() -> Path:
    return data_dir() / "models"


def datasets_dir() -> Path:
    return data_dir() / "datasets"


def runs_dir() -> Path:
    return data_dir() / "runs"


def history_file() -> Path:
    return data_dir() / "repl_history"


def settings_file() -> Path:
    return config_dir() / "settings.json"


def assets_dir() -> Path:
    """The bundled assets: the repo's top-level ``assets/``, installed as ``bash_ai.assets``."""
    try:
        from importlib.resources import files

        return Path(str(files("bash_ai.assets")))
    except ModuleNotFoundError:
        # Running from a source tree that was not installed (e.g. ``python -m pytest`` in a clone).
        return Path(__file__).resolve().parents[1] / "assets"


def bundled_model_dir() -> Path:
    return assets_dir() / "model"


def ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
