"""Which model a name means, and loading it as an ``Engine``.

Resolution order (mlx-lm ``_download`` style): ``None``/``"default"`` is the user's chosen default
(settings ``model``) or else the bundled model; ``"bundled"`` is the bundled model; then an
existing local directory; then an installed name under the data dir's ``models/`` (``org/name``
is stored as ``org--name``); then a Hub repo id, downloaded with ``huggingface_hub`` into the
data dir. ``huggingface_hub`` is imported only for that download.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bash_ai import paths
from bash_ai.errors import BashAIError, ModelError, NetworkError, UsageError
from bash_ai.io import sha256_file
from bash_ai.model_files import CARD_FILE, CHECKSUMS_FILE, CONFIG_FILE, PARTS, TOKENIZER_FILE, WEIGHTS_FILE

if TYPE_CHECKING:
    from bash_ai.engine import Engine

DEFAULT = "default"
BUNDLED = "bundled"
SETTINGS_KEY = "model"

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SEP = "--"  # "org/name" is stored as "org--name" (the Hub forbids "--" in names)
_TRUTHY = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class ModelEntry:
    """An installed model, as ``bash-ai models list`` shows it."""

    name: str
    path: Path
    size_bytes: int
    bundled: bool
    description: str


class VerifiedFiles(list[tuple[str, str]]):
    """``(relative file, sha256)`` of every file checked; ``manifest``: a SHA256SUMS was matched."""

    manifest: bool = False

    @property
    def files(self) -> list[tuple[str, str]]:
        return list(self)


# -- names ------------------------------------------------------------------------------------


def is_model_name(name: str) -> bool:
    """``name`` or ``org/name``, Hub-style characters, no ``--`` or ``..``."""
    parts = name.split("/")
    return (
        1 <= len(parts) <= 2
        and all(_SEGMENT.match(p) and _SEP not in p and ".." not in p for p in parts)
        and name not in (DEFAULT, BUNDLED)
    )


def dir_name(name: str) -> str:
    """The directory under ``models_dir()`` that holds the model called ``name``."""
    if not is_model_name(name):
        raise UsageError(f"invalid model name {name!r}: use letters, digits, '.', '_', '-' and at most one '/'")
    return name.replace("/", _SEP)


def name_of_dir(directory: str) -> str:
    return directory.replace(_SEP, "/", 1)


# -- settings ---------------------------------------------------------------------------------


def _read_settings() -> dict[str, Any]:
    path = paths.settings_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: settings are not valid JSON ({exc}); fix or delete the file") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: settings must be a JSON object; fix or delete the file")
    return data


def default_model_name() -> str | None:
    """The user's chosen default (``bash-ai models use``), or ``None`` for the bundled model."""
    value = _read_settings().get(SETTINGS_KEY)
    return value if isinstance(value, str) and value else None


def set_default_model(name: str | None) -> None:
    """Store ``name`` (a name, or a directory saved as an absolute path); ``None`` resets it."""
    from bash_ai.io import atomic_write_text

    settings = _read_settings()
    if name is None or name in (DEFAULT, BUNDLED):
        settings.pop(SETTINGS_KEY, None)
    else:
        local = Path(name).expanduser()
        settings[SETTINGS_KEY] = str(local.resolve()) if local.is_dir() else name
    atomic_write_text(paths.settings_file(), json.dumps(settings, indent=2, sort_keys=True) + "\n")


# -- resolution -------------------------------------------------------------------------------


def check_model_dir(path: Path) -> Path:
    """Cheap structural check: the files a model needs exist and config.json parses."""
    from bash_ai.config import ModelConfig

    if not path.is_dir():
        raise ModelError(f"{path}: model directory not found")
    missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE) if not (path / f).is_file()]
    if missing:
        raise ModelError(f"{path}: not a complete model directory (missing {', '.join(missing)})")
    ModelConfig.load(path / CONFIG_FILE)
    return path


def resolve_model_dir(name_or_path: str | os.PathLike[str] | None = None) -> Path:
    """The directory of the model ``name_or_path`` means, downloading it if it is a Hub repo id."""
    name = os.fspath(name_or_path) if name_or_path is not None else DEFAULT
    if not name.strip():
        raise UsageError("empty model name")
    if name == DEFAULT:
        chosen = default_model_name()
        return resolve_model_dir(chosen) if chosen and chosen != DEFAULT else _bundled()
    if name == BUNDLED:
        return _bundled()
    local = Path(name).expanduser()
    if local.is_dir():
        return check_model_dir(local.resolve())
    if is_model_name(name):
        installed = paths.models_dir() / dir_name(name)
        if installed.is_dir():
            return check_model_dir(installed)
        if "/" in name:
            return pull(name)
    if name.startswith((".", "/", "~")) or os.sep in name:
        raise ModelError(f"{name}: no such model directory")
    raise ModelError(f"no model named {name!r} is installed (see bash-ai models list)")


def _bundled() -> Path:
    path = paths.bundled_model_dir()
    if not path.is_dir():
        raise ModelError(f"the bundled model is missing at {path}; reinstall bash-ai or pass --model")
    return check_model_dir(path)


def _display_name(name_or_path: str | os.PathLike[str] | None, path: Path) -> str:
    name = os.fspath(name_or_path) if name_or_path is not None else DEFAULT
    if name == DEFAULT:
        name = default_model_name() or BUNDLED
    return name if (name == BUNDLED or is_model_name(name)) and not Path(name).is_dir() else path.name


def load(name_or_path: str | os.PathLike[str] | None = None) -> Engine:
    """Resolve, load strictly and wrap in an ``Engine`` (numpy runtime: no torch, no mlx)."""
    from bash_ai.engine import Engine

    path = resolve_model_dir(name_or_path)
    model, tokenizer = _load_parts(path)
    return Engine(model, tokenizer, _display_name(name_or_path, path), model_dir=path)


def _load_parts(path: Path) -> tuple[Any, Any]:
    """The numpy model and tokenizer of a checked directory; any failure is a ModelError."""
    from bash_ai.checkpoint import load_numpy_model
    from bash_ai.tokenizer import load_tokenizer

    try:
        model = load_numpy_model(path)
        tokenizer = load_tokenizer(path / TOKENIZER_FILE)
    except BashAIError:
        raise
    except Exception as exc:  # noqa: BLE001 - a trust boundary: corrupt files raise anything
        raise ModelError(f"{path}: cannot load the model ({type(exc).__name__}: {_one_line(exc)})") from None
    if int(tokenizer.vocab_size) > model.config.vocab_size:
        raise ModelError(
            f"{path}: tokenizer has {tokenizer.vocab_size} tokens but config.json says {model.config.vocab_size}"
        )
    return model, tokenizer


def list_models() -> list[ModelEntry]:
    """The bundled model (when present) and every model in the data dir, by name."""
    entries = []
    bundled = paths.bundled_model_dir()
    if (bundled / CONFIG_FILE).is_file():
        entries.append(_entry(BUNDLED, bundled, bundled=True))
    root = paths.models_dir()
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and (child / CONFIG_FILE).is_file():
                entries.append(_entry(name_of_dir(child.name), child, bundled=False))
    return entries


def _entry(name: str, path: Path, bundled: bool) -> ModelEntry:
    from bash_ai.config import ModelConfig, describe

    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    try:
        description = describe(ModelConfig.load(path / CONFIG_FILE))
    except ModelError as exc:
        description = f"broken: {exc}"
    return ModelEntry(name, path, size, bundled, f"{description}, {size / 1e6:.1f} MB")


# -- the Hub ----------------------------------------------------------------------------------


def pull(repo_id: str, revision: str | None = None, name: str | None = None, endpoint: str | None = None) -> Path:
    """Download a Hub repo into ``models_dir()/<name>`` (default: the repo id), atomically.

    The download lands in a temp dir and is checked (files present, SHA256SUMS if shipped, a
    strict load) before it replaces any installed copy.
    """
    if repo_id.count("/") != 1 or not is_model_name(repo_id):
        raise UsageError(f"invalid Hub repository {repo_id!r}: it must look like owner/name")
    target = paths.models_dir() / dir_name(name or repo_id)
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY:
        raise NetworkError(f"model {repo_id} is not installed and HF_HUB_OFFLINE is set, so it cannot be downloaded")
    paths.ensure(target.parent)
    from bash_ai.io import staged_dir

    with staged_dir(target) as tmp:
        _snapshot(repo_id, revision, endpoint, tmp)
        shutil.rmtree(tmp / ".cache", ignore_errors=True)  # huggingface_hub's download metadata
        total = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file() and not f.is_symlink())
        if total > PULL_MAX_BYTES:
            raise ModelError(f"{repo_id}: {total:,} bytes, more than bash-ai accepts ({PULL_MAX_BYTES:,})")
        check_model_dir(tmp)
        verify_model_dir(tmp)
    return target


# What ``models pull`` downloads from a repository (nothing else: no scripts, no surprise files),
# and the most it accepts in all.
PULL_FILES = (
    CONFIG_FILE,
    WEIGHTS_FILE,
    "tokenizer*.json",
    *PARTS,
    CHECKSUMS_FILE,
    CARD_FILE,
    "README.md",
    "loss.png",
    "training/*/*.json",
    "training/*/*.jsonl",
)
PULL_MAX_BYTES = 2 << 30


def _snapshot(repo_id: str, revision: str | None, endpoint: str | None, local_dir: Path) -> None:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import (
            GatedRepoError,
            LocalEntryNotFoundError,
            RemoteEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:
        raise NetworkError("downloading models needs huggingface_hub: pip install huggingface_hub") from None
    where = endpoint or os.environ.get("HF_ENDPOINT") or "the Hugging Face Hub"
    try:
        snapshot_download(
            repo_id, revision=revision, local_dir=local_dir, endpoint=endpoint, allow_patterns=list(PULL_FILES)
        )
    except LocalEntryNotFoundError as exc:
        # The Hub could not be reached and nothing is cached: say why, not "file not found".
        cause = exc.__cause__ or exc.__context__ or exc
        raise NetworkError(f"cannot download {repo_id}: {where} is unreachable ({_one_line(cause)})") from None
    except GatedRepoError:
        raise NetworkError(f"{repo_id}: access denied on {where} (set HF_TOKEN)") from None
    except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError) as exc:
        raise ModelError(f"{repo_id}: not found on {where} ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - httpx/OSError/hub errors: all mean the download failed
        raise NetworkError(
            f"downloading {repo_id} from {where} failed: {type(exc).__name__}: {_one_line(exc)}"
        ) from None


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:300]
    token = os.environ.get("HF_TOKEN")
    return message.replace(token, "***") if token else message


# -- checksums --------------------------------------------------------------------------------


def _files(directory: Path) -> list[str]:
    """Every regular file, relative, posix, sorted; hidden files and the manifest excluded."""
    out = []
    for f in directory.rglob("*"):
        rel = f.relative_to(directory)
        if f.is_file() and not any(p.startswith(".") for p in rel.parts) and rel.as_posix() != CHECKSUMS_FILE:
            out.append(rel.as_posix())
    return sorted(out)


def write_checksums(directory: Path) -> Path:
    """Write ``SHA256SUMS`` (``sha256sum -c`` format) for every file in ``directory``."""
    from bash_ai.io import atomic_write_text

    directory = Path(directory)
    lines = [f"{sha256_file(directory / rel)}  {rel}\n" for rel in _files(directory)]
    path = directory / CHECKSUMS_FILE
    atomic_write_text(path, "".join(lines))
    return path


def read_checksums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](\S.*)", line.strip())
        if not match:
            raise ModelError(f"{path}: line {number} is not '<sha256>  <file>'")
        sums[match.group(2)] = match.group(1).lower()
    return sums


def verify_model_dir(directory: Path) -> VerifiedFiles:
    """Hash every file, match ``SHA256SUMS`` when present, and load the model strictly.

    Raises ``ModelError`` naming the path and what is wrong.
    """
    directory = check_model_dir(Path(directory))
    result = VerifiedFiles((rel, sha256_file(directory / rel)) for rel in _files(directory))
    manifest = directory / CHECKSUMS_FILE
    if manifest.is_file():
        expected = read_checksums(manifest)
        actual = dict(result)
        problems = [f"{f} is missing" for f in expected if f not in actual]
        problems += [f"{f} does not match its checksum" for f in expected if f in actual and actual[f] != expected[f]]
        problems += [f"{f} is not listed" for f in actual if f not in expected]
        if problems:
            raise ModelError(f"{directory}: {CHECKSUMS_FILE} check failed: " + "; ".join(problems))
        result.manifest = True
    _load_parts(directory)
    from bash_ai.engine.rerank import load_reranker
    from bash_ai.engine.structure import load_structure
    from bash_ai.model_files import STRUCTURE_FILE

    # A corrupt reranker or structure model fails here, not at the first answer.
    reranker = load_reranker(directory)
    if load_structure(directory) is None and reranker is not None and reranker.wants_structure:
        raise ModelError(f"{directory}: its reranker ranks with a structure model, and {STRUCTURE_FILE} is missing")
    return result
