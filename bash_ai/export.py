"""A bash-ai model as a Hugging Face ``transformers`` GPT-2 directory, loadable without our code.

Our transformer maps exactly onto GPT-2 when it has learned positions and LayerNorm: pre-norm
blocks, tanh-GELU MLP (GPT-2's ``gelu_new``), 1/sqrt(head_dim) attention, tied or untied
embeddings. What GPT-2 has and we do not is written as zeros (every bias); grouped-query attention
is exported by repeating each key/value head for the query heads that share it (same outputs,
more weights). RoPE, sinusoidal positions and RMSNorm have no exact GPT-2 equivalent: refused.

The directory: ``config.json`` (GPT2LMHeadModel), ``model.safetensors``, ``tokenizer.json`` (our
byte-level BPE in ``tokenizers``' format, special tokens included), ``tokenizer_config.json``,
``generation_config.json`` and a README with the prompt format. numpy only: no torch needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bash_ai import prompt as fmt
from bash_ai.errors import UsageError
from bash_ai.io import staged_dir

FORMATS = ("hf",)


def check_exportable(config: object) -> None:
    """One-line ``UsageError`` for a config GPT-2 cannot represent exactly."""
    problems = []
    if getattr(config, "pos_encoding", None) != "learned":
        problems.append(f"{config.pos_encoding} positions (GPT-2 has learned ones)")  # type: ignore[attr-defined]
    if getattr(config, "norm", None) != "layernorm":
        problems.append(f"{config.norm} (GPT-2 has LayerNorm)")  # type: ignore[attr-defined]
    if problems:
        raise UsageError("cannot export to the hf format exactly: " + " and ".join(problems))


def gpt2_state(config: object, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Our weights under GPT-2's names and layouts (Conv1D weights are (in, out))."""
    c = config
    d, hd = c.d_model, c.head_dim  # type: ignore[attr-defined]
    group = c.n_head // c.n_kv_head  # type: ignore[attr-defined]
    out: dict[str, np.ndarray] = {
        "transformer.wte.weight": weights["tok_emb.weight"],
        "transformer.wpe.weight": weights["pos_emb.weight"],
        "transformer.ln_f.weight": weights["norm_f.weight"],
        "transformer.ln_f.bias": np.zeros(d, np.float32),
    }
    if not c.tie_embeddings:  # type: ignore[attr-defined]
        out["lm_head.weight"] = weights["lm_head.weight"]

    def expand(w: np.ndarray) -> np.ndarray:  # (n_kv*hd, d) -> (n_head*hd, d): head h uses kv head h // group
        heads = w.reshape(c.n_kv_head, hd, d)  # type: ignore[attr-defined]
        return np.repeat(heads, group, axis=0).reshape(c.n_head * hd, d)  # type: ignore[attr-defined]

    for i in range(c.n_layer):  # type: ignore[attr-defined]
        p, q = f"blocks.{i}.", f"transformer.h.{i}."
        qkv = np.concatenate(
            [
                weights[p + "attn.q_proj.weight"],
                expand(weights[p + "attn.k_proj.weight"]),
                expand(weights[p + "attn.v_proj.weight"]),
            ]
        )  # (3d, d)
        out |= {
            q + "ln_1.weight": weights[p + "norm1.weight"],
            q + "ln_1.bias": np.zeros(d, np.float32),
            q + "attn.c_attn.weight": qkv.T,
            q + "attn.c_attn.bias": np.zeros(3 * d, np.float32),
            q + "attn.c_proj.weight": weights[p + "attn.o_proj.weight"].T,
            q + "attn.c_proj.bias": np.zeros(d, np.float32),
            q + "ln_2.weight": weights[p + "norm2.weight"],
            q + "ln_2.bias": np.zeros(d, np.float32),
            q + "mlp.c_fc.weight": weights[p + "mlp.fc.weight"].T,
            q + "mlp.c_fc.bias": np.zeros(c.d_ff, np.float32),  # type: ignore[attr-defined]
            q + "mlp.c_proj.weight": weights[p + "mlp.proj.weight"].T,
            q + "mlp.c_proj.bias": np.zeros(d, np.float32),
        }
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def export_hf(model_dir: Path, out: Path) -> Path:
    """Write the export of ``model_dir`` to ``out`` (a new directory, written atomically)."""

    from bash_ai.checkpoint import load_config, load_weights, save_safetensors
    from bash_ai.model_files import TOKENIZER_FILE
    from bash_ai.tokenizer import load_tokenizer

    check_exportable(load_config(model_dir))  # before reading any weights
    config, weights = load_weights(model_dir)
    tokenizer = load_tokenizer(model_dir / TOKENIZER_FILE)
    if not hasattr(tokenizer, "to_hf_json"):
        raise UsageError(f"{model_dir}: only byte-level BPE tokenizers export to tokenizer.json")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty")
    with staged_dir(out) as tmp:  # an empty ``out`` is replaced
        eot = int(tokenizer.eot_id)
        hf_config = {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": config.vocab_size,
            "n_positions": config.context_length,
            "n_ctx": config.context_length,
            "n_embd": config.d_model,
            "n_layer": config.n_layer,
            "n_head": config.n_head,
            "n_inner": config.d_ff,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": config.norm_eps,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "scale_attn_weights": True,
            "tie_word_embeddings": bool(config.tie_embeddings),
            "bos_token_id": eot,
            "eos_token_id": eot,
            "torch_dtype": "float32",
        }
        (tmp / "config.json").write_text(json.dumps(hf_config, indent=2) + "\n")
        (tmp / "generation_config.json").write_text(
            json.dumps({"bos_token_id": eot, "eos_token_id": eot, "pad_token_id": eot}, indent=2) + "\n"
        )
        save_safetensors(gpt2_state(config, weights), tmp / "model.safetensors", {"format": "pt"})
        tokenizer.to_hf_json(tmp / "tokenizer.json")
        (tmp / "tokenizer_config.json").write_text(
            json.dumps(
                {
                    "tokenizer_class": "PreTrainedTokenizerFast",
                    "eos_token": fmt.EOT,
                    "bos_token": fmt.EOT,
                    "pad_token": fmt.EOT,
                    "model_max_length": config.context_length,
                },
                indent=2,
            )
            + "\n"
        )
        (tmp / "README.md").write_text(_readme(model_dir.name))
    return out


def _readme(name: str) -> str:
    return f"""# {name} (exported by bash-ai)

A GPT-2-architecture export of a bash-ai model (English request -> bash command). Load it with
`transformers` (`AutoModelForCausalLM`, `AutoTokenizer`); no bash-ai code is needed.

Prompt format (the special tokens are single tokens):

    {fmt.REQUEST}list files sorted by size{fmt.BASH}

The model then writes the command and ends with `{fmt.EOT}`. bash-ai itself also puts the 3
nearest training pairs before the request, each as `{fmt.REQUEST}request{fmt.BASH}command{fmt.EOT}`.
Read every command before you run it.
"""
