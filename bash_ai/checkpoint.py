"""The model directory format: ``config.json`` + ``model.safetensors`` + the tokenizer file.

Loading is strict: missing, extra or mis-shaped tensors raise ``CheckpointError`` naming them. Only
numpy, safetensors and json are imported here; torch and mlx glue imports its framework lazily.
Training state (optimizer, step, RNG) lives elsewhere (``trainer.run_dir``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from bash_ai.config import ModelConfig
from bash_ai.errors import CheckpointError, ModelError
from bash_ai.io import current_umask, staged_dir
from bash_ai.model_files import CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE

if TYPE_CHECKING:
    from bash_ai.model.numpy_gpt import NumpyGPT

WEIGHTS_FORMAT = "bash-ai"
WEIGHTS_FORMAT_VERSION = 1
SAVE_DTYPES = ("float32", "float16", "int8")
# int8 files store each matrix as int8 with one float32 scale per row under this suffix (vectors, the
# norms' weights, stay float32): a quarter of float32's size, dequantized to float32 on load.
SCALE_SUFFIX = ".scale"
_MAX_LISTED = 8


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor name of the spec (``bash_ai.model``) with its shape, in a stable order."""
    c, kvd, f = config.d_model, config.n_kv_head * config.head_dim, config.d_ff
    shapes: dict[str, tuple[int, ...]] = {"tok_emb.weight": (config.vocab_size, c)}
    if config.pos_encoding == "learned":
        shapes["pos_emb.weight"] = (config.context_length, c)
    for i in range(config.n_layer):
        p = f"blocks.{i}."
        shapes[p + "norm1.weight"] = (c,)
        shapes[p + "attn.q_proj.weight"] = (c, c)
        shapes[p + "attn.k_proj.weight"] = (kvd, c)
        shapes[p + "attn.v_proj.weight"] = (kvd, c)
        shapes[p + "attn.o_proj.weight"] = (c, c)
        shapes[p + "norm2.weight"] = (c,)
        shapes[p + "mlp.fc.weight"] = (f, c)
        shapes[p + "mlp.proj.weight"] = (c, f)
    shapes["norm_f.weight"] = (c,)
    if not config.tie_embeddings:
        shapes["lm_head.weight"] = (config.vocab_size, c)
    return shapes


def check_weights(config: ModelConfig, shapes: dict[str, tuple[int, ...]], where: str) -> None:
    """Raise ``CheckpointError`` naming every missing, extra or mis-shaped tensor."""
    want = expected_shapes(config)
    missing = [n for n in want if n not in shapes]
    extra = sorted(n for n in shapes if n not in want)
    wrong = [
        f"{n} {tuple(shapes[n])} (expected {want[n]})" for n in want if n in shapes and tuple(shapes[n]) != want[n]
    ]
    problems = [
        f"{label}: {_listing(names)}"
        for label, names in (("missing", missing), ("extra", extra), ("wrong shape", wrong))
        if names
    ]
    if problems:
        raise CheckpointError(f"{where}: weights do not match the model config; " + "; ".join(problems))


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def random_weights(
    config: ModelConfig, seed: int = 0, std: float = 0.02, norm_std: float = 0.0
) -> dict[str, np.ndarray]:
    """Framework-free random weights (tests, benchmarks): matrices N(0, std), norms 1 + N(0, norm_std)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in expected_shapes(config).items():
        scale, base = (norm_std, 1.0) if len(shape) == 1 else (std, 0.0)
        out[name] = (base + scale * rng.standard_normal(shape)).astype(np.float32)
    return out


def save_model_dir(
    directory: Path,
    config: ModelConfig,
    weights: dict[str, np.ndarray],
    tokenizer: Any = None,
    metadata: dict[str, Any] | None = None,
    dtype: str = "float32",
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write a whole model directory beside ``directory`` and swap it in (never a torn directory).

    ``extra_files`` (name -> source file) are copied in too, e.g. the retrieval index.
    ``dtype="int8"`` rounds every matrix to int8 with one scale per row (``quantize_rows``).
    """
    directory = Path(directory)
    check_weights(config, {k: np.shape(v) for k, v in weights.items()}, str(directory))
    with staged_dir(directory) as tmp:
        os.chmod(tmp, 0o755)
        (tmp / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        save_weights(tmp / WEIGHTS_FILE, config, weights, dtype, metadata)
        if tokenizer is not None:
            tokenizer.save(tmp / TOKENIZER_FILE)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        _fsync_files(tmp)
    return directory


def save_weights(
    path: Path, config: ModelConfig, weights: dict[str, np.ndarray], dtype: str, metadata: dict[str, Any] | None = None
) -> None:
    """Write a weights file (not atomically: into a staged place) in ``dtype``: float32, float16, or
    int8 with one scale per row for each matrix (``quantize_rows``)."""
    if dtype not in SAVE_DTYPES:
        raise CheckpointError(f"cannot save weights as {dtype!r}; choose one of: {', '.join(SAVE_DTYPES)}")
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    meta.update(format=WEIGHTS_FORMAT, format_version=str(WEIGHTS_FORMAT_VERSION))
    if dtype == "int8":
        arrays = {}
        for k in expected_shapes(config):
            if np.ndim(weights[k]) == 2:
                arrays[k], arrays[k + SCALE_SUFFIX] = quantize_rows(np.asarray(weights[k], dtype=np.float32))
            else:
                arrays[k] = np.ascontiguousarray(weights[k], dtype=np.float32)
    else:
        arrays = {k: np.ascontiguousarray(weights[k], dtype=dtype) for k in expected_shapes(config)}
    save_safetensors(arrays, path, meta)


def save_safetensors(arrays: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> None:
    """Write ``arrays`` as a safetensors file readable as the user's other files (safetensors
    writes 0600)."""
    save_file(arrays, str(path), metadata=metadata)
    os.chmod(path, 0o666 & ~current_umask())


def tensors_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a safetensors file's tensor data (what follows its header): the same for the same
    tensors, as the file's own bytes are not (safetensors writes the metadata in random order)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(8 + int.from_bytes(handle.read(8), "little"))
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def quantize_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``matrix`` (rows, cols) as int8 and one float32 scale per row: ``q * scale[:, None]`` is within
    half a step (``scale / 2``) of each value; a row of zeros gets scale 1."""
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def _dequantize(weights: dict[str, np.ndarray], where: Path) -> dict[str, np.ndarray]:
    """An int8 file's tensors as float32 (each int8 matrix times its row scales), names checked."""
    scales = {n[: -len(SCALE_SUFFIX)]: weights.pop(n) for n in [n for n in weights if n.endswith(SCALE_SUFFIX)]}
    for name, array in weights.items():
        if array.dtype == np.int8:
            scale = scales.pop(name, None)
            if scale is None or array.ndim != 2 or scale.shape != (array.shape[0],) or scale.dtype.kind != "f":
                raise CheckpointError(f"{where}: int8 tensor {name} has no row scales of shape ({array.shape[0]},)")
            weights[name] = array.astype(np.float32) * scale.astype(np.float32)[:, None]
    if scales:
        raise CheckpointError(f"{where}: row scales without an int8 tensor: {_listing(sorted(scales))}")
    return weights


def load_config(directory: Path) -> ModelConfig:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{directory}: not a model directory ({CONFIG_FILE} not found)")
    try:
        return ModelConfig.load(path)
    except CheckpointError:
        raise
    except ModelError as exc:
        raise CheckpointError(str(exc)) from None


def load_weights(
    directory: Path, config: ModelConfig | None = None, float32: bool = True
) -> tuple[ModelConfig, dict[str, np.ndarray]]:
    """Config (``config`` if given, else ``config.json``) and the weights, checked strictly: float32,
    or with ``float32=False`` in the float dtype the file stores (float16 for a bundled model; an
    int8 file's matrices always come back dequantized, as float32)."""
    directory = Path(directory)
    if config is None:
        config = load_config(directory)
    path = directory / WEIGHTS_FILE
    if not path.is_file():
        raise CheckpointError(f"{directory}: {WEIGHTS_FILE} not found")
    return config, read_weights(path, config, float32, where=str(directory))


def read_weights(
    path: Path, config: ModelConfig, float32: bool = True, where: str | None = None
) -> dict[str, np.ndarray]:
    """The tensors of one weights file, checked against ``config`` (``load_weights``'s rules)."""
    try:
        with safe_open(str(path), framework="np") as handle:
            meta = handle.metadata() or {}
            if meta.get("format") == WEIGHTS_FORMAT and meta.get("format_version") != str(WEIGHTS_FORMAT_VERSION):
                raise CheckpointError(
                    f"{path}: unsupported weights format_version {meta.get('format_version')!r} "
                    f"(this bash-ai reads {WEIGHTS_FORMAT_VERSION})"
                )
            names = [n for n in handle.keys() if not n.endswith(SCALE_SUFFIX)]  # noqa: SIM118
            check_weights(config, {n: tuple(handle.get_slice(n).get_shape()) for n in names}, where or str(path))
            weights = {n: handle.get_tensor(n) for n in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: corrupt or unreadable weights file ({exc})") from None
    weights = _dequantize(weights, path)
    for name, array in weights.items():
        if array.dtype.kind != "f":
            raise CheckpointError(f"{path}: tensor {name} has dtype {array.dtype}, expected floating point")
        if float32 and array.dtype != np.float32:
            weights[name] = array.astype(np.float32)
    return weights


def stored_dtype(directory: Path) -> str:
    """The dtype the weights file stores its matrices in (safetensors' name, lowercased: ``f16``,
    ``f32``, ``i8``)."""
    with safe_open(str(Path(directory) / WEIGHTS_FILE), framework="np") as handle:
        dtypes = {str(handle.get_slice(n).get_dtype()).lower() for n in handle.keys()}  # noqa: SIM118
    return "i8" if "i8" in dtypes else dtypes.pop()


def load_numpy_model(directory: Path) -> NumpyGPT:
    """The CLI's runtime for a model directory (prepared weights from the cache where they are:
    ``bash_ai.model.prepared``)."""
    from bash_ai.model.numpy_gpt import NumpyGPT
    from bash_ai.model.prepared import load_prepared

    directory = Path(directory)
    config = load_config(directory)

    def build() -> NumpyGPT:
        _, weights = load_weights(directory, config, float32=False)  # NumpyGPT converts as it folds
        return NumpyGPT(config, weights)

    if not (directory / WEIGHTS_FILE).is_file():
        return build()  # its error names the directory
    return load_prepared(directory / WEIGHTS_FILE, config, build)


def _fsync_files(root: Path) -> None:
    for entry in root.iterdir():
        if entry.is_file():
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# Framework glue: the framework is imported inside each function.


def _unwrap_torch(module: Any) -> Any:
    """The GPT inside torch.compile (``_orig_mod``) and DDP (``module``) wrappers."""
    while True:
        if hasattr(module, "_orig_mod"):
            module = module._orig_mod
        elif type(module).__name__ == "DistributedDataParallel":
            module = module.module
        else:
            return module


def torch_state_to_numpy(module: Any) -> dict[str, np.ndarray]:
    """A torch GPT's weights as float32 numpy arrays (copies, on the CPU)."""
    import torch

    state = _unwrap_torch(module).state_dict()
    return {k: v.detach().to("cpu", torch.float32).numpy().copy() for k, v in state.items()}


def load_into_torch(module: Any, weights: dict[str, np.ndarray]) -> None:
    """Copy checked weights into a torch GPT in place (keeps its device and dtype)."""
    import torch

    model = _unwrap_torch(module)
    check_weights(model.config, {k: np.shape(v) for k, v in weights.items()}, "weights for the torch model")
    with torch.no_grad():
        model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}, strict=True)


def mlx_params_to_numpy(model: Any) -> dict[str, np.ndarray]:
    """An MLX GPT's weights as float32 numpy arrays."""
    import mlx.core as mx

    from bash_ai.model.mlx_gpt import flat_parameters

    return {k: np.array(v.astype(mx.float32)) for k, v in flat_parameters(model).items()}


def load_into_mlx(model: Any, weights: dict[str, np.ndarray]) -> None:
    """Replace an MLX GPT's weights with checked ones (each keeps its current dtype)."""
    import mlx.core as mx

    from bash_ai.model.mlx_gpt import flat_parameters

    check_weights(model.config, {k: np.shape(v) for k, v in weights.items()}, "weights for the mlx model")
    current = flat_parameters(model)
    model.load_weights([(k, mx.array(v).astype(current[k].dtype)) for k, v in weights.items()], strict=True)
    mx.eval(model.parameters())
