"""NL2Bash (Lin et al., LREC 2018; MIT): 12,607 English/bash pairs with a fixed train/dev/test split.

Stored as ``{train,dev,test}.{nl,cm}`` plus ``LICENSE``. The download fetches upstream
``data/bash/all.{nl,cm}`` at a pinned commit and applies ``split_pairs``, the same procedure as the
data pack's ``split.py`` (train 11,046 / dev 779 / test 782, no command in two splits), so a
download and ``--from ../shared/data/nl2bash`` give byte-identical files. Only ``train`` is trained on.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError
from trainer.data.document import Document
from trainer.data.manifest import Manifest, make_manifest

name = "nl2bash"
licence = "MIT"
licence_url = "https://github.com/TellinaTool/nl2bash/blob/master/data/bash/LICENSE"
attribution = (
    "NL2Bash: Xi Victoria Lin, Chenglong Wang, Luke Zettlemoyer, Michael D. Ernst. LREC 2018. "
    "Copyright (c) 2020 NL2Bash dataset"
)
COMMIT = "466c5fe873ab08c7cc0112ea1521cc6ad9c20992"
URL = f"https://raw.githubusercontent.com/TellinaTool/nl2bash/{COMMIT}/data/bash"
SPLITS: tuple[str, ...] = ("train", "dev", "test")
SPLIT_SEED = 2018


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    progress = options.get("progress")
    if from_path is not None:
        if not from_path.is_dir():
            raise DataError(f"--from for nl2bash must be a folder with {{train,dev,test}}.{{nl,cm}}: {from_path}")
        url = from_path.resolve().as_uri()
        names = [f"{s}.{ext}" for s in SPLITS for ext in ("nl", "cm")]
        if all((from_path / n).is_file() for n in names):
            for n in names:
                shutil.copyfile(from_path / n, dest_dir / n)
        elif (from_path / "all.nl").is_file() and (from_path / "all.cm").is_file():
            _write_split(dest_dir, from_path / "all.nl", from_path / "all.cm")
        else:
            missing = [n for n in names if not (from_path / n).is_file()]
            raise DataError(f"{from_path} lacks {', '.join(missing)} (and all.nl/all.cm to split)")
        if (from_path / "LICENSE").is_file():
            shutil.copyfile(from_path / "LICENSE", dest_dir / "LICENSE")
    else:
        from trainer.data.download import download

        url = str(options.get("url") or URL).rstrip("/")
        raw = dest_dir / ".raw"
        for part in ("all.nl", "all.cm", "LICENSE"):
            download(f"{url}/{part}", raw / part, progress, what=f"downloading {part}")
        _write_split(dest_dir, raw / "all.nl", raw / "all.cm")
        shutil.move(str(raw / "LICENSE"), dest_dir / "LICENSE")
        shutil.rmtree(raw)
    counts = {split: len(read_lines(dest_dir / f"{split}.nl")) for split in SPLITS}
    for split in SPLITS:
        if len(read_lines(dest_dir / f"{split}.cm")) != counts[split]:
            raise DataError(f"nl2bash {split}.nl and {split}.cm have different line counts")
    return make_manifest(
        dest_dir,
        url=url,
        counts=counts,
        options={"commit": COMMIT, "split_seed": SPLIT_SEED},
    )


def read_lines(path: Path) -> list[str]:
    """UTF-8, split on ``\\n`` only (never on other Unicode line breaks), trailing newline dropped."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8: {err}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _write_lines(path: Path, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.writelines(line + "\n" for line in lines)


def split_pairs(pairs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """The pack's ``split.py`` procedure: dedupe, seeded shuffle, 10:1:1 cut, then leakage fixes."""
    pairs = [(a, b) for a, b in pairs if a.strip() and b.strip()]
    pairs = list(dict.fromkeys(pairs))  # exact duplicates dropped, first kept
    n = len(pairs)
    idx = list(range(n))
    random.Random(SPLIT_SEED).shuffle(idx)
    k = n // 12
    train, dev, test = idx[: n - 2 * k], idx[n - 2 * k : n - k], idx[n - k :]
    train_cms = {pairs[i][1] for i in train}
    kept: list[list[int]] = [[], []]
    for split, keep in zip((dev, test), kept, strict=True):
        for i in split:
            (train if pairs[i][1] in train_cms else keep).append(i)
    shared = {pairs[i][1] for i in kept[0]} & {pairs[i][1] for i in kept[1]}
    final: list[list[int]] = [[], []]
    for split, out in zip(kept, final, strict=True):
        for i in split:
            (train if pairs[i][1] in shared else out).append(i)
    return {s: [pairs[i] for i in ids] for s, ids in zip(SPLITS, (train, *final), strict=True)}


def _write_split(dest_dir: Path, nl_path: Path, cm_path: Path) -> None:
    nl, cm = read_lines(nl_path), read_lines(cm_path)
    if len(nl) != len(cm):
        raise DataError(f"all.nl has {len(nl)} lines but all.cm has {len(cm)}")
    for split, items in split_pairs(list(zip(nl, cm, strict=True))).items():
        _write_lines(dest_dir / f"{split}.nl", [a for a, _ in items])
        _write_lines(dest_dir / f"{split}.cm", [b for _, b in items])


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """Pairs of every split, ``split`` set to train/dev/test; ids are ``nl2bash:<split>:<line>``."""
    for split in SPLITS:
        nl = read_lines(Path(dataset_dir) / f"{split}.nl")
        cm = read_lines(Path(dataset_dir) / f"{split}.cm")
        if len(nl) != len(cm):
            raise DataError(f"{dataset_dir}: {split}.nl and {split}.cm differ in length; fetch again with --force")
        for i, (request, command) in enumerate(zip(nl, cm, strict=True)):
            yield Document(
                kind="pair",
                id=f"nl2bash:{split}:{i}",
                source=name,
                licence=licence,
                request=request,
                command=command,
                split=split,
            )


def nl2bash_pairs(dataset_dir: Path, split: str = "test") -> list[Document]:
    """The pairs of one split (the evaluation reads ``dev``/``test``)."""
    if split not in SPLITS:
        raise DataError(f"unknown nl2bash split {split!r}; choose one of: {', '.join(SPLITS)}")
    return [d for d in iter_documents(dataset_dir) if d.split == split]
