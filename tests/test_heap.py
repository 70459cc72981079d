"""trainer.heap: freed blocks stay in the heap, so a step's reallocations fault no new pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Allocate, touch and free a 64 MB block 20 times (what a training step does with its logits);
# report the minor page faults of the last 19 rounds.
PROBE = """
import json, resource, sys
import numpy as np
from trainer.heap import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
def once():
    a = np.ones(64 << 20, dtype=np.uint8)
    del a
once()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(19):
    once()
print(json.dumps({"kept": kept, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _probe(mode: str, **env: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_kept_heap_reuses_freed_blocks_without_new_page_faults() -> None:
    plain = _probe("plain")
    kept = _probe("keep")
    assert kept["kept"] is True
    huge_pages = 19 * (64 << 20) // (2 << 20)  # the fewest faults of 19 fresh maps, even with 2 MB pages
    assert plain["faults"] >= huge_pages  # every round maps the block afresh
    assert kept["faults"] < 19  # the freed block is reused as it is


def test_kept_heap_can_be_turned_off() -> None:
    assert _probe("keep", BASH_AI_KEEP_HEAP="0")["kept"] is False
