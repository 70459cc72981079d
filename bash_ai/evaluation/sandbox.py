"""Run a command in a throwaway bubblewrap sandbox, to check what it does without risking the host.

Inside: the host's ``/usr``, ``/bin``, ``/lib*`` and ``/etc`` read-only; ``/proc``, a minimal
``/dev`` and a small tmpfs ``/tmp``; the work directory read-write at ``/work`` (also the cwd);
nothing else (no ``$HOME``: ``HOME`` points at a path that does not exist, so ``touch ~/x``
fails). Every namespace is unshared, so there is no network, not even loopback; the process tree
dies with us (``--die-with-parent``) and cannot reach our terminal (``--new-session``).

Limits: wall time (the whole sandbox is SIGKILLed), and rlimits on address space, file size, CPU
time, open files and core dumps (set in the child before ``bwrap`` starts; inherited by all) and
on the process count (``ulimit -u`` inside the sandbox).

RLIMIT_NPROC does not bind root, and it counts every process of the *user*, machine-wide. So when
we run as root the sandboxed command is dropped, with ``setpriv`` (no capabilities, no new
privileges), to a uid of its own: a random one from a range no account uses, fresh for each run,
and the work dir is chowned to it. (With one shared user such as ``nobody``, a fork bomb in one
sandbox would starve every other sandbox running at the same time.) Output goes to files outside
the sandbox, capped by the file-size limit, so ``yes`` cannot fill our memory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bash_ai.errors import SandboxError

WORKDIR_INSIDE = "/work"
HOME_INSIDE = "/home/sandbox"  # deliberately absent
_WRAPPER = 'ulimit -u "$1" || exit 126; shift; exec /bin/bash --noprofile --norc -c "$1"'


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    nproc: int = 64
    memory_bytes: int = 1 << 30  # RLIMIT_AS per process
    file_size_bytes: int = 16 << 20  # RLIMIT_FSIZE: any file written, stdout and stderr included
    open_files: int = 256
    tmp_bytes: int = 64 << 20  # size of the /tmp tmpfs
    # All files in the work dir together: watched from outside every WATCH_S, the run is killed
    # past it (it can overshoot by what it writes in one interval; each file stays under the cap above).
    workdir_bytes: int = 64 << 20
    # Resident memory of all the run's processes together (when it runs under its own uid, as
    # root does): watched like the work dir, killed past it.
    total_memory_bytes: int = 1536 << 20
    output_chars: int = 1 << 20  # how much of stdout/stderr is kept


@dataclass(frozen=True, slots=True)
class SandboxResult:
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float = 0.0


# Sandbox uids: far above any account (systemd reserves up to 0x7FFFFFFF for containers; this
# range sits inside the part it leaves to the administrator) and never the overflow uid 65534.
_UID_BASE = 0x60000000
_UID_SPAN = 0x10000000


def _sandbox_ids() -> tuple[int, int]:
    """A fresh uid for one sandbox run (process limits are per uid) and nobody's group."""
    try:
        gid = pwd.getpwnam("nobody").pw_gid
    except KeyError:
        gid = 65534
    return _UID_BASE + secrets.randbelow(_UID_SPAN), gid


def _as_root() -> bool:
    return os.geteuid() == 0


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args + ["--ro-bind", "/etc", "/etc"]


WATCH_S = 0.05  # how often a running sandbox's work dir size is checked


def tree_bytes(root: Path, stop_above: int) -> int:
    """Bytes the files under ``root`` occupy (links not followed), counting stops past ``stop_above``."""
    from bash_ai.evaluation.fstree import disk_usage

    return disk_usage(root, stop_above)


def resident_bytes(uid: int) -> int:
    """Resident memory of every process running as ``uid`` (from /proc; 0 where it is unreadable)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue  # gone already
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    return total


BWRAP_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"}


# A seccomp filter (classic BPF, as bwrap's --seccomp reads it) that refuses new user namespaces:
# unshare(2) and clone(2) with CLONE_NEWUSER get EPERM, clone3(2) ENOSYS (libc falls back to
# clone). Without it a command could ``unshare -Urm`` and mount its own unlimited tmpfs.
_ARCHES = {"x86_64": (0xC000003E, 272, 56, 435), "aarch64": (0xC00000B7, 97, 220, 435)}
_CLONE_NEWUSER = 0x10000000


def userns_filter(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine's architecture (None where we do not know its syscalls)."""
    import platform
    import struct

    found = _ARCHES.get(machine or platform.machine())
    if found is None:
        return None
    arch, unshare, clone, clone3 = found
    ld, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    program = [
        (ld, 0, 0, 4),  # 0: the architecture
        (jeq, 0, 6, arch),  # 1: another ABI: allow (its numbers differ)
        (ld, 0, 0, 0),  # 2: the syscall number
        (jeq, 6, 0, clone3),  # 3: clone3 -> ENOSYS
        (jeq, 1, 0, unshare),  # 4: unshare -> check the flags
        (jeq, 0, 2, clone),  # 5: clone -> check the flags, else allow
        (ld, 0, 0, 16),  # 6: the first argument (flags), low 32 bits
        (jset, 1, 0, _CLONE_NEWUSER),  # 7: a new user namespace -> EPERM
        (ret, 0, 0, allow),  # 8
        (ret, 0, 0, eperm),  # 9
        (ret, 0, 0, enosys),  # 10
    ]
    return b"".join(struct.pack("=HBBI", *ins) for ins in program)


def _argv(
    bwrap: str,
    command: str,
    workdir: Path,
    limits: SandboxLimits,
    ids: tuple[int, int] | None,
    seccomp_fd: int | None = None,
) -> list[str]:
    if ids is not None:
        # Privileged bwrap without a user namespace, then drop to the run's own uid: RLIMIT_NPROC
        # needs a non-root uid, and inside a user namespace root would stay uid 0 on the host.
        unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        uid, gid = ids
        drop = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
        drop += ["--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        unshare, drop = ["--unshare-all"], []
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": HOME_INSIDE,
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "USER": "sandbox",
        "TMPDIR": "/tmp",
    }
    return [
        bwrap,
        *unshare,
        "--die-with-parent",
        "--new-session",
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.tmp_bytes),
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--bind",
        str(workdir),
        WORKDIR_INSIDE,
        "--chdir",
        WORKDIR_INSIDE,
        "--clearenv",
        *[x for k, v in env.items() for x in ("--setenv", k, v)],
        "--hostname",
        "sandbox",
        "--remount-ro",
        "/",
        *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
        "--",
        *drop,
        "/bin/bash",
        "--noprofile",
        "--norc",
        "-c",
        _WRAPPER,
        "bash-ai-sandbox",
        str(limits.nproc),
        command,
    ]


def _rlimits(limits: SandboxLimits, timeout: float) -> None:
    """Runs in the child between fork and exec: only async-signal-safe work (setrlimit)."""
    cpu = int(timeout) + 2
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def _read(path: Path, limit: int) -> str:
    with open(path, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    from bash_ai.evaluation.fstree import chown_tree

    chown_tree(root, uid, gid)


def _execute(
    bwrap: str, command: str, workdir: Path, timeout: float, limits: SandboxLimits, ids: tuple[int, int] | None
) -> SandboxResult:
    """``ids``: the (uid, gid) to drop to when we are root (the work dir is already theirs)."""
    with tempfile.TemporaryDirectory(prefix="bash-ai-sandbox-out-") as out_dir:
        out_path, err_path = Path(out_dir) / "stdout", Path(out_dir) / "stderr"
        start = time.monotonic()
        seccomp_fd = None
        program = userns_filter()
        if program is not None:
            filter_path = Path(out_dir) / "seccomp.bpf"
            filter_path.write_bytes(program)
            seccomp_fd = os.open(filter_path, os.O_RDONLY)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                _argv(bwrap, command, workdir, limits, ids, seccomp_fd),
                pass_fds=(seccomp_fd,) if seccomp_fd is not None else (),
                # bwrap's own pid 1 keeps the environment it was started with, readable inside
                # through /proc/1/environ when both run as one user: start it with nothing of ours.
                env=dict(BWRAP_ENV),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=lambda: _rlimits(limits, timeout),
            )
            if seccomp_fd is not None:
                os.close(seccomp_fd)  # bwrap has its own copy
            timed_out = too_big = too_hungry = False
            while True:
                try:
                    proc.wait(timeout=WATCH_S)
                    break
                except subprocess.TimeoutExpired:
                    timed_out = time.monotonic() - start >= timeout
                    too_big = not timed_out and tree_bytes(workdir, limits.workdir_bytes) > limits.workdir_bytes
                    too_hungry = (
                        not (timed_out or too_big)
                        and ids is not None
                        and resident_bytes(ids[0]) > limits.total_memory_bytes
                    )
                    if timed_out or too_big or too_hungry:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(proc.pid, signal.SIGKILL)  # bwrap; its pid-1 child dies with it
                        proc.wait()
                        break
        seconds = time.monotonic() - start
        stderr = _read(err_path, limits.output_chars)
        if too_big:
            stderr += f"\nbash-ai: stopped: the work dir grew past {limits.workdir_bytes:,} bytes\n"
        if too_hungry:
            stderr += f"\nbash-ai: stopped: its processes used more than {limits.total_memory_bytes:,} bytes\n"
        return SandboxResult(
            returncode=proc.returncode,
            stdout=_read(out_path, limits.output_chars),
            stderr=stderr,
            timed_out=timed_out,
            seconds=seconds,
        )


@lru_cache(maxsize=4)
def _probe(bwrap: str, as_root: bool) -> str | None:
    """Run ``true`` in a sandbox once; ``None`` if it worked, else why not."""
    with tempfile.TemporaryDirectory(prefix="bash-ai-sandbox-probe-") as tmp:
        workdir = Path(tmp)
        ids = _sandbox_ids() if as_root else None
        if ids is not None:
            _chown_tree(workdir, *ids)
        try:
            result = _execute(bwrap, "true", workdir, 20.0, SandboxLimits(), ids)
        except OSError as exc:
            return f"bwrap could not start: {exc}"
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[0]
        return f"bwrap does not work here ({first})"
    return None


def sandbox_problem() -> str | None:
    """Why commands cannot be sandboxed on this machine, or ``None`` when they can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed; install the 'bubblewrap' package"
    if _as_root() and shutil.which("setpriv") is None:
        return "running as root needs setpriv (util-linux) to drop privileges inside the sandbox"
    return _probe(bwrap, _as_root())


def ensure_sandbox() -> str:
    """The path of a working ``bwrap``; :class:`SandboxError` with the reason otherwise."""
    problem = sandbox_problem()
    if problem is not None:
        raise SandboxError(f"cannot sandbox commands: {problem}")
    return shutil.which("bwrap") or "bwrap"


def run_sandboxed(
    command: str, workdir: Path, timeout: float = 5.0, *, limits: SandboxLimits | None = None
) -> SandboxResult:
    """Run ``command`` with bash inside the sandbox, ``workdir`` mounted read-write as its cwd.

    When we run as root the work dir's tree is chowned first to the uid the command runs as (a
    fresh one per run). Nothing is ever run outside the sandbox: an unusable sandbox raises SandboxError.
    """
    if timeout <= 0:
        raise SandboxError(f"timeout must be positive, not {timeout!r}")
    workdir = Path(workdir)
    if not workdir.is_dir():
        raise SandboxError(f"the sandbox work directory {workdir} does not exist")
    bwrap = ensure_sandbox()
    ids = _sandbox_ids() if _as_root() else None
    if ids is not None:
        _chown_tree(workdir, *ids)
    return _execute(bwrap, command, workdir.resolve(), timeout, limits or SandboxLimits(), ids)
