#!/usr/bin/env bash
# Reproduces the bundled default model (assets/model) with bash-ai's own pipeline.
#   bash trainer/recipes/bundled.sh [DATA_PACK] [OUT_DIR]
# DATA_PACK defaults to ../shared/data (tldr, NL2Bash, TinyStories sample); the local corpus is
# harvested from this machine's scripts and man pages. Needs the 'train' extra. On an otherwise idle
# 2-core CPU: stage 1 ~30 min, stage 2 ~60 min (fp32 then), stage 3 ~2 h and stage 4 ~2 h 30 min
# (bf16 autocast on AMX), the reranker ~8 min; stages 5 and 6 and the later rerankers were run on a 4x slower CPU (below).
set -euo pipefail
pack=${1:-../shared/data}
out=${2:-assets/model}
base_steps=${BASE_STEPS:-1200}
ft_steps=${FT_STEPS:-2800}
rag_steps=${RAG_STEPS:-11000}
more_steps=${MORE_STEPS:-9000}
runs=$(python3 -c 'from bash_ai.paths import runs_dir; print(runs_dir())')

bash-ai data fetch nl2bash --from "$pack/nl2bash"
bash-ai data fetch tldr --from "$pack/tldr"
bash-ai data fetch tinystories --from "$pack/tinystories/sample-a.txt"
bash-ai data fetch local

# Stage 1, bilingual: English (TinyStories, man pages) and bash (pairs both ways, scripts) from
# the start, 20% English rows. Trains the 4,096-token BPE on the mix.
bash-ai train --stage bilingual --backend torch \
  --data tinystories --data local --data nl2bash --data tldr --language-ratio 0.2 \
  --model-size small --n-kv-head 2 --context-length 256 --vocab-size 4096 \
  --num-steps "$base_steps" --batch-size 16 --lr 2e-3 --warmup-steps 100 \
  --eval-interval 250 --ckpt-interval 100 --seed 1337 --precision fp32 --name bundled-base

# Stage 2, finetune: request/command pairs only (NL2Bash train split, tldr minus its holdout).
bash-ai train --stage finetune --backend torch --init "$runs/bundled-base/model" \
  --data nl2bash --data tldr --language-ratio 0 \
  --num-steps "$ft_steps" --batch-size 16 --lr 6e-4 --warmup-steps 20 \
  --eval-interval 100 --ckpt-interval 100 --seed 7 --precision fp32 --name bundled-ft

# Stage 3, retrieval-augmented finetune: each pair also trains with its 3 nearest training pairs
# (BM25; the pair itself and pairs with the same command excluded) in the prompt, twice (the 3
# nearest, and 3 of the 6 nearest), beside its plain forward and reverse sequences; windows start
# at a sequence start. The run writes the retrieval index into every model directory it saves.
# Resumable: rerun with --resume --name bundled-rag after an interruption.
bash-ai train --stage finetune --backend torch --init "$runs/bundled-ft/model" \
  --data nl2bash --data tldr --language-ratio 0 --retrieval-k 3 --retrieval-variants 2 \
  --num-steps "$rag_steps" --batch-size 16 --lr 6e-4 --warmup-steps 100 \
  --eval-interval 500 --ckpt-interval 250 --seed 11 --precision bf16 --name bundled-rag

# Stage 4, the same data for longer at half the learning rate. It was started with a 20,000-step
# schedule and, at its step-3,000 checkpoint, given a 9,000-step one (--resume --num-steps: the
# cosine schedule ends at 9,000); these two commands replay exactly that.
bash-ai train --stage finetune --backend torch --init "$runs/bundled-rag/model" \
  --data nl2bash --data tldr --language-ratio 0 --retrieval-k 3 --retrieval-variants 2 \
  --num-steps 20000 --batch-size 16 --lr 3e-4 --warmup-steps 100 \
  --eval-interval 1000 --ckpt-interval 250 --seed 12 --precision bf16 --name bundled-rag2 --stop-after 3000
bash-ai train --resume --name bundled-rag2 --num-steps "$more_steps" --out "$out" --out-dtype float16

# The reranker: a lexicon learnt from the index's training pairs, and a linear model fitted on the
# stage 4 model's own candidates for nl2bash-dev towards the NLC2CMD score plus 0.25 x the F1 of
# the candidate's arguments (bash_ai/engine/rerank.py, trainer/rerank.py).
# It reads the float16 model just written and writes it back with reranker.safetensors beside it.
bash-ai train --stage rerank --init "$out" --name bundled-rerank --out "$out" --out-dtype float16

# Stage 5, the structure model: that model fine-tuned to write each NL2Bash train request's command
# template (arguments abstracted: `find ARG -name ARG`), no retrieved examples in the prompt,
# dropout and label smoothing 0.1; ~6 passes over the pairs' 346k tokens (fp32: this CPU had no
# AMX, so bf16 autocast was slower than fp32; 51 min at ~650 tokens/s). It was started with a
# 600-step schedule and, at its step-100 checkpoint, given a 500-step one; these two commands replay
# exactly that (the cosine schedule ends at 500).
bash-ai train --stage finetune --backend torch --init "$out" \
  --data nl2bash --language-ratio 0 --targets template --dropout 0.1 --label-smoothing 0.1 \
  --num-steps 600 --batch-size 16 --lr 6e-4 --warmup-steps 50 \
  --eval-interval 150 --ckpt-interval 100 --seed 21 --precision fp32 --name structure --stop-after 100
bash-ai train --resume --name structure --num-steps 500

# The reranker again, with the structure model's log-probability of each candidate's template as one
# more feature; the structure model ships inside as structure.safetensors (int8), and the answering
# model is written as int8 too (one scale per row), so that both fit in 30 MB.
bash-ai train --stage rerank --init "$out" --structure "$runs/structure/model" --name bundled-rerank2 \
  --review-top 0 --out "$out" --out-dtype int8

# Stage 6, the structure model trained on: 800 more steps from stage 5's (~9.6 more passes over the
# templates, ~16 in all; fp32, 1 h 52 min at ~560 tokens/s on the slower CPU).
bash-ai train --stage finetune --backend torch --init "$runs/structure/model" \
  --data nl2bash --language-ratio 0 --targets template --dropout 0.1 --label-smoothing 0.1 \
  --num-steps 800 --batch-size 16 --lr 4e-4 --warmup-steps 30 --ckpt-interval 100 --seed 23 \
  --precision fp32 --name structure3

# The reranker a third time: stage 6's structure model as its structure feature, and a review stage
# that re-ranks the first stage's 3 best candidates with the reverse score log p(request | command)
# (--review-top 3, the default). The bundled fit reused the candidates that a run of this same
# command proposed on 2026-12-04 (bundled-rerank4's pools, --pools; they only lacked the reverse
# scores, which the fit computed); without --pools the candidates are proposed anew (~13 min).
bash-ai train --stage rerank --init "$out" --structure "$runs/structure3/model" --name bundled-review3 \
  --out "$out" --out-dtype int8

# The index built anew with each tldr example's page name among its terms (a description leaves out
# its page's program: "Display system memory" on the page free). The weights, the structure model
# and the reranker are copied as they are; a refit of the reranker on the new index's candidates was
# measured and not kept (docs/benchmarks.md, "A tldr example's page among its index terms").
bash-ai train --stage index --init "$out" --data nl2bash --data tldr --index-topics --name bundled-index \
  --out "$out"

# Stage 8: bash-ai's own how-to pairs (trainer/data/sources/howto.jsonl: everyday requests in the
# words users type, written for bash-ai, none an evaluation request) join the index beside NL2Bash
# and tldr; the weights and the structure model are copied as they are. The reranker is then
# fitted anew on the new index's candidates for nl2bash-dev (its lexicon learnt from the 41,069
# pairs); the bundled fit was the same command's fit on the pools of a run that had proposed them
# (docs/benchmarks.md, "bash-ai's own how-to pairs"). It ran with the file's first 1,015 pairs; the
# file now holds stage 9's 2,020, so a replay builds stage 9's index here already.
bash-ai data fetch howto
bash-ai train --stage index --init "$out" --data nl2bash --data tldr --data howto --index-topics \
  --name bundled-howto-index --out "$out"
bash-ai train --stage rerank --init "$out" --name bundled-howto-rerank --out "$out" --out-dtype int8

# Stage 9: 1,005 more how-to pairs (2,020 in all), and a reranker fitted on two tuning suites' pools
# together: nl2bash-dev's and everyday-tune's (229 everyday requests written apart from everyday-dev
# and -test), with every column again for short requests (--short-columns: at most 8 words), so that
# a retrieved how-to command can count for a short request without counting for NL2Bash's long
# ones. Chosen on everyday-dev (held out of every fit) and nl2bash-dev's 5-fold figures
# (docs/benchmarks.md, "Two tuning suites and short requests").
bash-ai data fetch howto --force
bash-ai train --stage index --init "$out" --data nl2bash --data tldr --data howto --index-topics \
  --name bundled-howto2-index --out "$out"
bash-ai train --stage rerank --init "$out" --tune-suite everyday-tune --name bundled-pools-everyday-tune
bash-ai train --stage rerank --init "$out" --tune-suite nl2bash-dev --name bundled-pools-nl2bash-dev
bash-ai train --stage rerank --init "$out" --pools "$runs/bundled-pools-nl2bash-dev/pools.json.gz" \
  --pools "$runs/bundled-pools-everyday-tune/pools.json.gz" --short-columns --name bundled-everyday-rerank \
  --out "$out" --out-dtype int8

# Stage 10: the reranker fitted again on stage 9's pools, with two more columns (and their short
# copies): whether a candidate runs a program the request names by its name ("whois example.com",
# "grep for foo or bar"), and whether it runs none of them, each weighed by how often a training
# request that says the name asks for it (the index's program table, stored in the reranker file).
# Chosen on everyday-dev2 (267 everyday requests held out of every fit; docs/benchmarks.md,
# "A deletion's scope, the files a request keeps, and the programs it names").
bash-ai train --stage rerank --init "$out" --pools "$runs/bundled-pools-nl2bash-dev/pools.json.gz" \
  --pools "$runs/bundled-pools-everyday-tune/pools.json.gz" --short-columns --program-columns \
  --name bundled-program-rerank --out "$out" --out-dtype int8

# Stage 11: 1,022 more how-to pairs (3,042 in all) in the index, the pools proposed anew with it, and
# the reranker fitted on them with two more columns (and their short copies): whether a how-to or a
# tldr pair asked for a candidate (--source-columns; NL2Bash's pairs are the rest). Chosen on
# everyday-dev2 and nl2bash-dev by rules fixed before the figures (docs/benchmarks.md, "More how-to
# pairs, where a candidate came from, questions, and find's grammar").
bash-ai data fetch howto --force
bash-ai train --stage index --init "$out" --data nl2bash --data tldr --data howto --index-topics \
  --name bundled-howto3-index --out "$out"
bash-ai train --stage rerank --init "$out" --tune-suite everyday-tune --name bundled-howto3-pools-everyday-tune
bash-ai train --stage rerank --init "$out" --tune-suite nl2bash-dev --name bundled-howto3-pools-nl2bash-dev
bash-ai train --stage rerank --init "$out" --pools "$runs/bundled-howto3-pools-nl2bash-dev/pools.json.gz" \
  --pools "$runs/bundled-howto3-pools-everyday-tune/pools.json.gz" --short-columns --program-columns \
  --source-columns --name bundled-source-rerank --out "$out" --out-dtype int8
