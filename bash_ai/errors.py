"""Domain errors. Messages are written for the user; the CLI prints them as one line.

Exit codes are documented in the README and stable: scripts may rely on them.
"""

from __future__ import annotations


class BashAIError(Exception):
    """Base class of every expected failure. ``str(err)`` is the user-facing line."""

    exit_code = 1


class UsageError(BashAIError):
    """The user asked for something malformed (empty request, bad option value)."""

    exit_code = 2


def check_range(what: str, value: float, low: float, high: float, *, integer: bool = False) -> None:
    """Refuse ``value`` outside [low, high], not a number (NaN included) or, with ``integer``, not
    a whole number, with one clear line."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise UsageError(f"{what} must be between {low} and {high} (got {value!r})")


class ModelError(BashAIError):
    """A model directory is missing, corrupt or inconsistent."""

    exit_code = 3


class TokenizerError(ModelError):
    """A tokenizer file is missing, corrupt or of an unknown version."""


class CheckpointError(ModelError):
    """Weights do not match the config (missing, extra or mis-shaped tensors)."""


class DataError(BashAIError):
    """A dataset is missing, corrupt, or could not be fetched."""

    exit_code = 4


class NetworkError(DataError):
    """A remote service failed or could not be reached."""


class GenerationError(BashAIError):
    """The model could not produce a usable answer."""

    exit_code = 5


class Aborted(BashAIError):
    """The user declined a confirmation."""

    exit_code = 6


class SandboxError(BashAIError):
    """The execution sandbox (bubblewrap) is missing or unusable, or was given a bad work dir."""
