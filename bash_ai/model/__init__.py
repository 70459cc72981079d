"""The transformer, defined once per runtime with identical weight names.

- ``numpy_gpt``: inference only, the CLI's runtime (no torch import, fast cold start).
- ``torch_gpt``: training and reference logits (needs the ``train`` extra).
- ``mlx_gpt``: training on Apple silicon / Linux CPU (needs the ``train`` extra).

Weight names (``L`` = layer index; ``KVD = n_kv_head * head_dim``; Linear weights are (out, in)):

    tok_emb.weight               (vocab_size, d_model)
    pos_emb.weight               (context_length, d_model)      only for pos_encoding == "learned"
    blocks.L.norm1.weight        (d_model,)
    blocks.L.attn.q_proj.weight  (d_model, d_model)
    blocks.L.attn.k_proj.weight  (KVD, d_model)
    blocks.L.attn.v_proj.weight  (KVD, d_model)
    blocks.L.attn.o_proj.weight  (d_model, d_model)
    blocks.L.norm2.weight        (d_model,)
    blocks.L.mlp.fc.weight       (d_ff, d_model)
    blocks.L.mlp.proj.weight     (d_model, d_ff)
    norm_f.weight                (d_model,)
    lm_head.weight               (vocab_size, d_model)          only when tie_embeddings is False

The architecture, exactly (every runtime must match it to 1e-4 in fp32):
- x = tok_emb[ids] (+ pos_emb[pos] | + sinusoidal(pos)); sinusoidal: pe[p, 2i] = sin(p / 10000^(2i/C)),
  pe[p, 2i+1] = cos(same).
- per block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). Norms have a weight, no bias;
  layernorm or rmsnorm per config, eps = config.norm_eps.
- attn: q, k, v projections, heads split as (B, T, H, D) -> (B, H, T, D); RoPE (when chosen) is the
  rotate-half (GPT-NeoX, mlx ``traditional=False``) form over the full head dim with base rope_theta,
  applied to q and k at their absolute positions; each kv head serves n_head // n_kv_head
  consecutive query heads; causal softmax(q k^T / sqrt(D)) v; o_proj.
- mlp: proj(gelu_tanh(fc(x))), gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
- logits = norm_f(x) @ W^T with W = tok_emb.weight when tied, else lm_head.weight.
"""
