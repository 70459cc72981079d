#!/usr/bin/env bash
# Reproduces the bundled default model (assets/model) with bash-ai's own pipeline.
#   bash trainer/recipes/bundled.sh [DATA_PACK] [OUT_DIR]
# DATA_PACK defaults to ../shared/data (tldr, NL2Bash, TinyStories sample); the local corpus is
# harvested from this machine's scripts and man pages. Needs the 'train' extra. About 90 minutes
# on an otherwise idle 2-core CPU (stage 2 is ~5 passes over the request/command pairs).
set -euo pipefail
pack=${1:-../shared/data}
out=${2:-assets/model}
base_steps=${BASE_STEPS:-1200}
ft_steps=${FT_STEPS:-2800}
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
  --eval-interval 250 --ckpt-interval 100 --seed 1337 --name bundled-base

# Stage 2, finetune: request/command pairs only (NL2Bash train split, tldr minus its holdout).
bash-ai train --stage finetune --backend torch --init "$runs/bundled-base/model" \
  --data nl2bash --data tldr --language-ratio 0 \
  --num-steps "$ft_steps" --batch-size 16 --lr 6e-4 --warmup-steps 20 \
  --eval-interval 100 --ckpt-interval 100 --seed 7 --name bundled-ft \
  --out "$out" --out-dtype float16
