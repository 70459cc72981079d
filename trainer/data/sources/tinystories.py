"""TinyStories (Eldan & Li 2023; CDLA-Sharing-1.0): short English stories, from the Hugging Face Hub.

The Hub file is stored as downloaded (``filename`` option; default the V2 GPT-4 train split).
Upstream files separate stories with ``<|endoftext|>`` lines; other copies (such as the data
pack's sample) use blank lines, in which case each blank-line-separated block is one document.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError, NetworkError
from trainer.data.document import Document
from trainer.data.manifest import Manifest, make_manifest

name = "tinystories"
licence = "CDLA-Sharing-1.0"
licence_url = "https://cdla.dev/sharing-1-0/"
attribution = (
    "TinyStories: Ronen Eldan and Yuanzhi Li. 2023. TinyStories: How Small Can Language Models Be and "
    "Still Speak Coherent English? arXiv:2305.07759"
)
REPO_ID = "roneneldan/TinyStories"
FILENAME = "TinyStoriesV2-GPT4-train.txt"  # or "TinyStoriesV2-GPT4-valid.txt" (smaller)
REVISION = "main"
SEPARATOR = "<|endoftext|>"


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    progress = options.get("progress")
    if from_path is not None:
        if not from_path.is_file():
            raise DataError(f"--from for tinystories must be a text file: {from_path}")
        from trainer.data.download import copy_file

        filename = from_path.name
        copy_file(from_path, dest_dir / filename, progress)
        url = from_path.resolve().as_uri()
        revision = ""
    else:
        filename = str(options.get("filename") or FILENAME)
        revision = str(options.get("revision") or REVISION)
        url = _hub_download(dest_dir, filename, revision, options.get("url"))
    if "/" in filename or filename.startswith("."):
        raise DataError(f"bad TinyStories file name {filename!r}")
    stories = sum(1 for _ in _iter_stories(dest_dir / filename))
    if stories == 0:
        raise DataError(f"{filename} contains no stories")
    return make_manifest(
        dest_dir,
        url=url,
        counts={"stories": stories},
        options={"filename": filename, "revision": revision, "repo_id": REPO_ID},
    )


def _hub_download(dest_dir: Path, filename: str, revision: str, endpoint: Any) -> str:
    """``hf_hub_download`` into ``dest_dir``; the endpoint is ``--url``, else ``HF_ENDPOINT``, else the Hub."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise NetworkError("HF_HUB_OFFLINE is set, so TinyStories cannot be downloaded; use --from FILE")
    import huggingface_hub
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    base = str(endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    try:
        path = huggingface_hub.hf_hub_download(
            repo_id=REPO_ID,
            repo_type="dataset",
            filename=filename,
            revision=revision,
            local_dir=dest_dir,
            endpoint=base,
        )
    except (HfHubHTTPError, LocalEntryNotFoundError) as err:
        status = _http_status(err)
        if status is None:
            raise NetworkError(
                f"could not reach {base} to download {filename}; check the network or use --from FILE"
            ) from None
        raise NetworkError(f"could not download {filename} from {base}: HTTP {status}") from None
    except OSError as err:
        raise NetworkError(f"could not download {filename} from {base}: {err}") from None
    shutil.rmtree(dest_dir / ".cache", ignore_errors=True)  # huggingface_hub's local_dir bookkeeping
    if Path(path).resolve() != (dest_dir / filename).resolve():
        raise NetworkError(f"the Hub returned an unexpected path for {filename}")
    return f"{base}/datasets/{REPO_ID}/resolve/{revision}/{filename}"


def _http_status(err: BaseException) -> int | None:
    """The HTTP status behind a Hub error (huggingface_hub wraps it when it falls back to the cache)."""
    current: BaseException | None = err
    for _ in range(8):
        if current is None:
            break
        response = getattr(current, "response", None)
        if response is not None and getattr(response, "status_code", None):
            return int(response.status_code)
        current = current.__cause__ or current.__context__
    return None


def _iter_stories(path: Path) -> Iterator[str]:
    """Stories split on ``<|endoftext|>`` lines when the file has them, else on blank lines."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(1 << 20)
        handle.seek(0)
        by_marker = SEPARATOR in head
        block: list[str] = []
        for line in handle:
            boundary = line.strip() == SEPARATOR if by_marker else not line.strip()
            if by_marker and SEPARATOR in line and not boundary:
                before, _, after = line.partition(SEPARATOR)
                block.append(before)
                if story := "".join(block).strip():
                    yield story
                block = [after]
                continue
            if boundary:
                if story := "".join(block).strip():
                    yield story
                block = []
            else:
                block.append(line)
        if story := "".join(block).strip():
            yield story


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """One text document per story, ids ``tinystories:<file>:<n>``."""
    files = sorted(p for p in Path(dataset_dir).iterdir() if p.is_file() and p.suffix == ".txt")
    if not files:
        raise DataError(f"{dataset_dir} holds no TinyStories text; fetch again with --force")
    for path in files:
        for i, story in enumerate(_iter_stories(path)):
            yield Document(kind="text", id=f"tinystories:{path.name}:{i}", source=name, licence=licence, text=story)
