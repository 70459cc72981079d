#!/usr/bin/env bash
# Reproduces the bundled default model (assets/model) with bash-ai's own pipeline.
#   bash trainer/recipes/bundled.sh [DATA_PACK] [OUT_DIR]
# DATA_PACK defaults to ../shared/data (tldr, NL2Bash, TinyStories sample); the local corpus is
# harvested from this machine's scripts and man pages. Needs the 'train' extra.
set -euo pipefail
pack=${1:-../shared/data}
out=${2:-assets/model}
steps=${STEPS:-1200}

bash-ai data fetch nl2bash --from "$pack/nl2bash"
bash-ai data fetch tldr --from "$pack/tldr"
bash-ai data fetch tinystories --from "$pack/tinystories/sample-a.txt"
bash-ai data fetch local

bash-ai train --stage bilingual --backend torch \
  --data tinystories --data local --data nl2bash --data tldr --language-ratio 0.2 \
  --model-size small --n-kv-head 2 --context-length 256 --vocab-size 4096 \
  --num-steps "$steps" --batch-size 16 --lr 2e-3 --warmup-steps 100 \
  --eval-interval 250 --ckpt-interval 100 --seed 1337 \
  --name "bundled-${steps}" --out "$out" --out-dtype float16
