"""BASH_AI_MLX_BLAS: a CBLAS put in front of MLX's own, in fresh processes (the load order matters)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mlx.core")

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from trainer.mlx_blas import use_fast_blas
from bash_ai.errors import BashAIError
try:
    note = use_fast_blas(sys.argv[1])
except BashAIError as exc:
    print(json.dumps({"error": str(exc)}))
    raise SystemExit(0)
import mlx.core as mx
import numpy as np
a = np.random.default_rng(0).standard_normal((64, 48)).astype(np.float32)
b = np.random.default_rng(1).standard_normal((48, 32)).astype(np.float32)
got = np.array(mx.array(a) @ mx.array(b))
print(json.dumps({"note": note, "close": bool(np.allclose(got, a @ b, atol=1e-4))}))
"""


def _probe(spec: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, spec], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mlx_own_blas() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("mlx")
    assert spec is not None and spec.submodule_search_locations
    libs = Path(next(iter(spec.submodule_search_locations))).parent / "mlx_cpu.libs"
    return next(iter(sorted(libs.glob("libblas*.so*"))), None)


def test_a_named_cblas_is_loaded_before_mlx_and_matmuls_stay_right() -> None:
    blas = _mlx_own_blas()
    if blas is None:
        pytest.skip("this MLX build bundles no BLAS library to load")
    result = _probe(str(blas))
    assert result["note"] == f"MLX matmuls use {blas}"
    assert result["close"] is True


def test_missing_library_and_library_without_sgemm_are_usage_errors(tmp_path: Path) -> None:
    missing = _probe(str(tmp_path / "libnothing.so"))
    assert "does not exist" in str(missing["error"])
    libm = next((p for p in Path("/lib/x86_64-linux-gnu").glob("libm.so.6")), None)
    if libm is not None:
        assert "has no cblas_sgemm" in str(_probe(str(libm))["error"])


def test_without_a_choice_an_installed_openblas_is_used_else_a_hint() -> None:
    from trainer.mlx_blas import find_openblas

    result = _probe("")
    if sys.platform.startswith("linux"):
        found = find_openblas()
        if found:
            assert result["note"] == f"MLX matmuls use {found}"
        else:
            assert "apt-get install libopenblas0-pthread" in str(result["note"])
    assert result["close"] is True


def test_off_keeps_mlx_own_blas_and_says_so() -> None:
    result = _probe("off")
    assert result["note"] == "MLX matmuls use its bundled reference BLAS (BASH_AI_MLX_BLAS=off)"
    assert result["close"] is True


def test_too_late_once_mlx_is_imported() -> None:
    code = "import mlx.core\nfrom trainer.mlx_blas import use_fast_blas\nprint(use_fast_blas('/no/such/lib.so'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "ignored" in out.stdout
