"""Host-side walks of a sandbox tree never follow links and survive very deep trees (issue 16).

Each attack is reproduced with real files under tmp_path; the host directory a planted link
points at is a temp dir, never a real system directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bash_ai.evaluation.fstree import MAX_DEPTH, chown_tree, remove_tree, snapshot


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A 'host' directory outside the work dir, mode 0755, holding a file."""
    d = tmp_path / "host"
    d.mkdir()
    (d / "keep.txt").write_text("precious\n")
    d.chmod(0o755)
    return d


def _work(tmp_path: Path, host: Path) -> Path:
    """What a hostile command leaves: a link to the host dir, a locked subdir, a file."""
    work = tmp_path / "work"
    (work / "locked" / "inner").mkdir(parents=True)
    (work / "locked" / "inner" / "f").write_text("x")
    (work / "evil").symlink_to(host)
    (work / "locked" / "evil2").symlink_to(host)
    (work / "file").write_text("y")
    (work / "locked").chmod(0)
    return work


def test_remove_tree_never_follows_a_link_to_a_host_directory(tmp_path: Path, host: Path) -> None:
    work = _work(tmp_path, host)
    remove_tree(work)
    assert not os.path.lexists(work)
    assert stat.S_IMODE(host.stat().st_mode) == 0o755  # the old os.walk + chmod made it 0700
    assert (host / "keep.txt").read_text() == "precious\n"


def test_snapshot_records_links_without_entering_them(tmp_path: Path, host: Path) -> None:
    work = _work(tmp_path, host)
    work.joinpath("locked").chmod(0o755)
    snap = snapshot(work)
    assert snap["evil"] == f"link {host}" and snap["locked/evil2"] == f"link {host}"
    assert not any("keep.txt" in rel for rel in snap)
    assert snap["locked"] == "dir" and snap["locked/inner/f"].startswith("file ")
    remove_tree(work)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_chown_tree_changes_links_not_their_targets(tmp_path: Path, host: Path) -> None:
    work = _work(tmp_path, host)
    work.joinpath("locked").chmod(0o755)
    before = host.stat()
    chown_tree(work, 12345, 12345)
    assert (host.stat().st_uid, host.stat().st_gid) == (before.st_uid, before.st_gid)
    assert work.joinpath("evil").lstat().st_uid == 12345 and work.joinpath("locked/inner/f").stat().st_uid == 12345
    remove_tree(work)


def _deep(root: Path, levels: int) -> None:
    """``root/d/d/.../d/f`` ``levels`` deep, built relative to directory fds (paths get too long)."""
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
    finally:
        os.close(fd)


def test_a_1900_level_tree_is_snapshotted_and_removed_without_recursion(tmp_path: Path) -> None:
    work = tmp_path / "deep"
    _deep(work, 1900)
    snap = snapshot(work)  # os.walk raised RecursionError here
    marker = "/".join(["d"] * MAX_DEPTH)
    assert snap[marker] == f"dir (deeper than {MAX_DEPTH} levels)" and len(snap) == MAX_DEPTH
    remove_tree(work)
    assert not os.path.lexists(work)


@pytest.mark.tool("bwrap")
def test_exec_task_cleanup_leaves_the_host_directory_alone(tmp_path: Path, host: Path) -> None:
    from bash_ai.evaluation import sandbox_problem
    from bash_ai.evaluation.tasks import load_tasks, run_task

    if sandbox_problem():
        pytest.skip(f"the sandbox cannot run here: {sandbox_problem()}")
    task = load_tasks()[0]
    hostile = f"ln -s {host} evil; mkdir -p a/b && chmod 000 a; true"
    result = run_task(task, hostile)
    assert not result.passed and "unexpected" in result.details
    assert stat.S_IMODE(host.stat().st_mode) == 0o755
    assert (host / "keep.txt").read_text() == "precious\n"
