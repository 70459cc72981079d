"""tldr pages: known answers on real pages, the placeholder table, full-pack counts, the holdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from bash_ai.errors import DataError, UsageError
from trainer.data import dataset_path, fetch_dataset, iter_documents, to_sequences
from trainer.data.sources.tldr import is_holdout, tldr_pairs
from trainer.data.sources.tldr_parse import clean_description, fill_placeholder, fill_placeholders, parse_page


def _page(shared_data: Path, rel: str) -> str:
    return (shared_data / "tldr" / "pages" / rel).read_text(encoding="utf-8")


def test_tar_page_known_answers(shared_data: Path) -> None:
    page = parse_page("tar", _page(shared_data, "common/tar.md"))
    assert page.title == "tar"
    assert page.summary == "Archiving utility. Often combined with a compression method, such as gzip or bzip2."
    assert len(page.examples) == 8
    first, third, fourth = page.examples[0], page.examples[2], page.examples[3]
    assert first.description == "Create an archive and write it to a file"
    assert first.command == "tar cf target.tar file1.txt file2.txt"
    assert first.raw_command == "tar cf {{path/to/target.tar}} {{path/to/file1 path/to/file2 ...}}"
    assert third.command == "tar czf target.tar.gz --directory dir ."
    assert fourth.description == "Extract a (compressed) archive file into the current directory verbosely"
    assert fourth.command == "tar xvf source.tar.gz"
    assert page.examples[7].command == 'tar xf source.tar --wildcards "*.html"'


def test_hidden_dot_page_parses(shared_data: Path) -> None:
    page = parse_page(".", _page(shared_data, "common/..md"))
    assert page.name == "." and page.examples
    assert all("{{" not in ex.command for ex in page.examples)


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("path/to/file", "file.txt"),
        ("path/to/file1", "file1.txt"),
        ("path/to/input_file", "input.txt"),
        ("path/to/directory", "dir"),
        ("path/to/output_directory", "output_dir"),
        ("path/to/file.pdf", "file.pdf"),
        ("path/to", "dir"),
        ("/path/to/file", "/tmp/file.txt"),
        ("./path/to/binary", "./binary"),
        ("~/path/to/file", "~/file.txt"),
        ("path/to/source.tar[.gz|.bz2|.xz]", "source.tar.gz"),
        ("path/to/file1 path/to/file2 ...", "file1.txt file2.txt"),
        ("package1 package2 ...", "package1 package2"),
        ("...", ""),
        ("[-C|--directory]", "--directory"),
        ("[-h|--help]", "--help"),
        ("[ls|list]", "list"),
        ("[-it|--interactive --tty]", "--interactive --tty"),
        ("on|off", "on"),
        ("path/to/file|url", "file.txt"),
        ("url", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("username", "alice"),
        ("port", "8080"),
        ("ip_address", "192.168.1.10"),
        ("/dev/sdX", "/dev/sda"),
        ("/dev/sdXY", "/dev/sda1"),
        ("100", "100"),
        ("branch_name", "branch_name"),
        ("*.html", "*.html"),
        ("Hello World!", "Hello World!"),
    ],
)
def test_placeholder_table(inner: str, expected: str) -> None:
    assert fill_placeholder(inner) == expected


def test_placeholders_in_context() -> None:
    assert fill_placeholders("echo ${{{array_name[@]}}}") == "echo ${array_name[@]}"
    assert fill_placeholders("ls {{[-a|--all]}} {{path/to/directory}}") == "ls --all dir"
    assert fill_placeholders("plain command") == "plain command"
    assert clean_description("E[x]tract a `tar` [f]ile:") == "Extract a tar file"


def test_whole_pack_counts_and_holdout(shared_data: Path) -> None:
    manifest = fetch_dataset("tldr", shared_data / "tldr")
    assert manifest.counts["pages"] == 7013
    assert manifest.counts["examples"] == 30479
    assert manifest.licence == "CC-BY-4.0" and "tldr-pages" in manifest.attribution
    assert "pages/common/..md" in manifest.files and "LICENSE.md" in manifest.files

    docs = list(iter_documents("tldr"))
    pairs = [d for d in docs if d.kind == "pair"]
    assert len(pairs) == 30479
    assert all(d.licence == "CC-BY-4.0" and d.meta["page"] and d.meta["platform"] for d in pairs)
    assert all("{{" not in d.command for d in pairs if "{{" not in d.meta["raw_command"].replace("{{{", ""))
    assert len({d.id for d in docs}) == len(docs)

    train = [d for d in pairs if d.split == "train"]
    holdout = tldr_pairs(dataset_path("tldr"), "holdout")
    assert holdout == [d for d in pairs if d.split == "holdout"]
    assert len(train) + len(holdout) == 30479
    held_pages = {d.meta["page"] for d in holdout}
    assert held_pages and not held_pages & {d.meta["page"] for d in train}
    assert 0.03 < len(held_pages) / manifest.counts["pages"] < 0.07
    assert all(is_holdout(p) for p in held_pages)
    # Every document of a held-out page (its summary too) is out of training.
    assert all(d.split == "holdout" for d in docs if d.meta["page"] in held_pages)
    with pytest.raises(UsageError):
        tldr_pairs(dataset_path("tldr"), "test")


def test_holdout_is_stable(shared_data: Path) -> None:
    """The documented rule, recomputed independently, and pinned to the pack's page count."""
    import hashlib

    def rule(name: str) -> bool:
        return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % 20 == 0

    pages = shared_data / "tldr" / "pages"
    names = [entry.name[:-3] for platform in pages.iterdir() for entry in platform.iterdir()]
    assert [n for n in names if is_holdout(n)] == [n for n in names if rule(n)]
    # Changing the rule would leak held-out pages into training: this number must never move.
    assert sum(is_holdout(n) for n in names) == 344


def test_pairs_train_both_directions(shared_data: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages" / "common"
    pages.mkdir(parents=True)
    (pages / "tar.md").write_text(_page(shared_data, "common/tar.md"), encoding="utf-8")
    fetch_dataset("tldr", tmp_path)
    pair = next(d for d in iter_documents("tldr") if d.kind == "pair")
    forward, reverse = to_sequences(pair)
    assert forward[0].text.startswith("<|request|>") and forward[1].text.startswith("tar cf")
    assert reverse[0].text.startswith("<|command|>tar cf") and reverse[1].target


def test_from_folder_without_pages(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tldr pages"):
        fetch_dataset("tldr", tmp_path)
