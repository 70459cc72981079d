"""BLAS threads: numpy loads with one OpenBLAS thread; a prefill may borrow more and gives them back."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_fresh(code: str, tmp_path: Path, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (numpy not yet loaded); its last stdout line as JSON."""
    import os

    child_env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")} | env
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=child_env | {"PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_thread_at_load_more_for_a_block_then_one_again(tmp_path: Path) -> None:
    got = run_fresh(
        """
        import json, os
        from bash_ai.api import import_numpy_single_threaded
        import_numpy_single_threaded()
        from bash_ai.model import blas
        seen = {"env_left": [k for k in os.environ if k.startswith("OPENBLAS_")], "loaded": blas.current()}
        with blas.threads(2):
            seen["inside"] = blas.current()
        seen["after"] = blas.current()
        with blas.threads(1):
            seen["one"] = blas.current()
        try:
            with blas.threads(2):
                raise KeyError("boom")
        except KeyError:
            seen["after_error"] = blas.current()
        print(json.dumps(seen))
        """,
        tmp_path,
    )
    # numpy's wheel bundles OpenBLAS (the project's CI installs it): its count is readable.
    assert got == {"env_left": [], "loaded": 1, "inside": 2, "after": 1, "one": 1, "after_error": 1}


def test_a_users_thread_count_is_theirs(tmp_path: Path) -> None:
    got = run_fresh(
        """
        import json
        from bash_ai.api import import_numpy_single_threaded
        import_numpy_single_threaded()
        from bash_ai.model import blas
        print(json.dumps({"loaded": blas.current()}))
        """,
        tmp_path,
        OPENBLAS_NUM_THREADS="2",
    )
    assert got == {"loaded": 2}


def test_only_a_process_answering_alone_prefills_on_every_core(tiny_model_dir: Path) -> None:
    import os

    from bash_ai.api import load_engine

    assert load_engine(str(tiny_model_dir)).prefill_threads == 1  # the server, eval, the REPL
    assert load_engine(str(tiny_model_dir), alone=True).prefill_threads == (os.cpu_count() or 1)
