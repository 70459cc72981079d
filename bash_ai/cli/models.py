"""``bash-ai models list|pull|push|use|verify|path``: installed models and the Hub.

The bundled model (``bundled``) is always there; others live in the data dir's ``models/``.
Pull and push talk to the Hugging Face Hub (``HF_ENDPOINT`` honoured); the token comes from
``HF_TOKEN`` and is never printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bash_ai.errors import BashAIError, ModelError, NetworkError, UsageError

Opt = typer.Option
Arg = typer.Argument

models_app = typer.Typer(help="List, download, publish and choose models.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


def _hub_error(action: str, exc: Exception) -> BashAIError:
    """A Hub or network failure as one user-facing line (the token never appears in it)."""
    import os

    message = " ".join(str(exc).split())
    token = os.environ.get("HF_TOKEN")
    if token:
        message = message.replace(token, "***")
    first = message.split(". ")[0][:300]
    return NetworkError(f"{action} failed: {type(exc).__name__}: {first}")


@models_app.command("list", help="Installed models (bundled first); * marks the default.")
def list_models(as_json: Annotated[bool, Opt("--json", help="Print JSON.")] = False) -> None:
    from bash_ai import registry

    entries = registry.list_models()
    default = registry.default_model_name()
    rows = [_entry_dict(e, default) for e in entries]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    default_dir = Path(default) if default and Path(default).is_dir() else None
    if not rows and default_dir is None:
        from bash_ai.term.ui import warn

        warn("no models installed: the bundled one is missing; bash-ai models pull OWNER/NAME")
    if default_dir is not None and not any(row["default"] for row in rows):
        sys.stdout.write(f"* {default_dir}  (a directory set with bash-ai models use)\n")
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        mark = "*" if row["default"] else " "
        sys.stdout.write(f"{mark} {row['name']:<{width}}  {row['path']}  {row['description']}\n")


def _entry_dict(entry: Any, default: str | None) -> dict[str, Any]:
    """``default`` is the setting: a name, a directory, or None for the bundled model."""
    is_default = entry.bundled if default is None else default in (entry.name, str(entry.path))
    return {
        "name": entry.name,
        "path": str(entry.path),
        "bundled": entry.bundled,
        "size_bytes": entry.size_bytes,
        "description": entry.description,
        "default": is_default,
    }


@models_app.command("path", help="Print a model's directory.")
def path(name: Annotated[str, Arg(help="Model name or directory.")] = "bundled") -> None:
    from bash_ai import registry

    sys.stdout.write(f"{registry.resolve_model_dir(name)}\n")


@models_app.command("verify", help="Check a model's SHA256SUMS and that it loads strictly.")
def verify(name: Annotated[str, Arg(help="Model name or directory.")] = "bundled") -> None:
    from bash_ai import registry

    directory = registry.resolve_model_dir(name)
    report = registry.verify_model_dir(directory)
    how = f"{len(report.files)} files match {registry.CHECKSUMS_FILE}" if report.manifest else "no SHA256SUMS to check"
    sys.stdout.write(f"ok: {name} loads strictly; {how} ({directory})\n")


@models_app.command("use", help="Make a model the default for every command.")
def use(name: Annotated[str, Arg(help="Model name or directory.")]) -> None:
    from bash_ai import registry

    directory = registry.resolve_model_dir(name)
    registry.set_default_model(name)
    sys.stdout.write(f"default model: {name} ({directory})\n")


@models_app.command("pull", help="Download a model from the Hub into the data dir.")
def pull(
    repo: Annotated[str, Arg(help="Hub repository, e.g. user/bash-ai-mini.")],
    revision: Annotated[str | None, Opt(help="Branch, tag or commit.")] = None,
    name: Annotated[str | None, Opt(help="Local name (default: the repository's name).")] = None,
) -> None:
    from bash_ai import registry

    directory = registry.pull(repo, revision=revision, name=name)
    sys.stdout.write(f"{directory}\n")


@models_app.command("push", help="Publish a model directory to the Hub (token from HF_TOKEN).")
def push(
    directory: Annotated[Path, Arg(help="A model directory (config.json, weights, tokenizer).")],
    repo: Annotated[str, Arg(help="Hub repository, e.g. user/bash-ai-mini.")],
    revision: Annotated[str | None, Opt(help="Branch to commit to.")] = None,
    private: Annotated[bool, Opt(help="Create the repository as private.")] = False,
    message: Annotated[str, Opt(help="Commit message.")] = "Upload bash-ai model",
    with_hf: Annotated[
        bool, Opt("--with-hf", help="Also upload the transformers export (models export --format hf) under hf/.")
    ] = False,
) -> None:
    import os
    import tempfile

    from bash_ai import registry

    if repo.count("/") != 1 or not registry.is_model_name(repo):
        raise UsageError(f"invalid Hub repository {repo!r}: it must look like owner/name")
    if not directory.is_dir():
        raise ModelError(f"{directory}: not a model directory")
    registry.check_model_dir(directory)
    if not (directory / registry.CHECKSUMS_FILE).is_file():
        registry.write_checksums(directory)
    registry.verify_model_dir(directory)  # the manifest matches and the weights load strictly
    token = os.environ.get("HF_TOKEN") or None
    try:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo, private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(directory),
            repo_id=repo,
            revision=revision,
            commit_message=message,
            ignore_patterns=[".*", "**/.*"],
        )
    except Exception as exc:  # noqa: BLE001 - huggingface_hub/httpx raise many kinds
        raise _hub_error(f"uploading to {repo}", exc) from None
    if with_hf:
        from bash_ai.export import export_hf

        with tempfile.TemporaryDirectory(prefix="bash-ai-hf-") as tmp:
            exported = export_hf(directory, Path(tmp) / "hf")
            try:
                info = api.upload_folder(
                    folder_path=str(exported),
                    path_in_repo="hf",
                    repo_id=repo,
                    revision=revision,
                    commit_message=message + " (transformers export)",
                )
            except Exception as exc:  # noqa: BLE001
                raise _hub_error(f"uploading the hf export to {repo}", exc) from None
    sys.stdout.write(f"{getattr(info, 'commit_url', repo)}\n")


@models_app.command("export", help="Write a model in another format: hf (transformers' GPT-2).")
def export(
    name: Annotated[str, Arg(help="Model name or directory.")],
    out: Annotated[Path, Opt("--out", help="Directory to write (new or empty).")],
    format: Annotated[str, Opt("--format", help="hf")] = "hf",
) -> None:
    from bash_ai import registry
    from bash_ai.errors import UsageError
    from bash_ai.export import FORMATS, export_hf

    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
    directory = export_hf(registry.resolve_model_dir(name), out)
    sys.stdout.write(f"{directory}\n")
