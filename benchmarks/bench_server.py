"""HTTP server latency and throughput: ``bash-ai serve`` against a bare peer server, side by side.

    python benchmarks/bench_server.py [--requests 200] [--concurrency 8] [--model DIR]

The peer is the least a server can do with the same engine: Python's ``ThreadingHTTPServer``
calling ``engine.ask`` on each POST (no checks, no limits, no queue, a thread per connection).
Both run as separate processes on loopback; the load generator (httpx, one thread per client) runs
here. Requests are NL2Bash descriptions from the data pack (``../shared/data``), greedy, so both
servers generate the same tokens. Reported: latency p50/p90/p99 (and time to first streamed
chunk), requests/s and generated tokens/s, and the framework overhead on a no-work route.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nl2bash" / "all.nl"
MAX_TOKENS = 64


def requests_from_pack(count: int) -> list[str]:
    """``count`` NL2Bash descriptions spread over the whole file (a fixed stride: reproducible)."""
    lines = [line.strip() for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(lines) // count)
    return lines[::step][:count]


# --- the peer server (run in its own process with ``--peer PORT``) ----------------------------


def run_peer(port: int, model: str | None) -> None:
    from bash_ai.engine import SamplingParams
    from bash_ai.registry import load

    engine = load(model)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body in two sends meet delayed ACKs: +40 ms

        def _send(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._send({"status": "ok"})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            params = SamplingParams(temperature=body["temperature"], max_tokens=body["max_tokens"])
            [done] = engine.ask(body["request"], params)
            self._send({"text": done.text.strip(), "completion_tokens": done.n_tokens})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"serving peer on http://127.0.0.1:{port} ", file=sys.stderr, flush=True)
    server.serve_forever()


# --- processes and load ----------------------------------------------------------------------


@contextmanager
def process(cmd: list[str]) -> Iterator[str]:
    """Start a server process; yields its base URL (read from its "serving ... on URL" line)."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if match:
                threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
                yield match.group(1)
                return
        raise RuntimeError(f"{cmd} exited before serving")
    finally:
        proc.terminate()
        proc.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": ordered[-1]}


def load(url: str, items: list[Any], call: Callable[[httpx.Client, Any], dict[str, float]], concurrency: int) -> dict:
    """Run ``call`` once per item from ``concurrency`` clients; latency percentiles and rates."""
    limits = httpx.Limits(max_connections=concurrency)
    with httpx.Client(base_url=url, timeout=300, limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:
        call(client, items[0])  # warm: first-call costs (imports, caches) are not the server's steady state
        start = time.perf_counter()
        results = list(pool.map(lambda item: call(client, item), items))
        wall = time.perf_counter() - start
    out: dict[str, Any] = {
        "requests": len(items),
        "concurrency": concurrency,
        "wall_s": wall,
        "req_per_s": len(items) / wall,
        "latency_ms": {k: v * 1000 for k, v in percentiles([r["latency"] for r in results]).items()},
        "tokens_per_s": sum(r.get("tokens", 0) for r in results) / wall,
    }
    if "ttft" in results[0]:
        out["first_chunk_ms"] = {k: v * 1000 for k, v in percentiles([r["ttft"] for r in results]).items()}
    return out


def call_peer(client: httpx.Client, request: str) -> dict[str, float]:
    t0 = time.perf_counter()
    r = client.post("/generate", json={"request": request, "temperature": 0, "max_tokens": MAX_TOKENS})
    r.raise_for_status()
    return {"latency": time.perf_counter() - t0, "tokens": r.json()["completion_tokens"]}


def call_generate(client: httpx.Client, request: str) -> dict[str, float]:
    t0 = time.perf_counter()
    r = client.post("/generate", json={"request": request, "temperature": 0, "max_tokens": MAX_TOKENS})
    r.raise_for_status()
    return {"latency": time.perf_counter() - t0, "tokens": r.json()["usage"]["completion_tokens"]}


def call_chat_stream(client: httpx.Client, request: str) -> dict[str, float]:
    body = {
        "messages": [{"role": "user", "content": request}],
        "stream": True,
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "stream_options": {"include_usage": True},
    }
    t0 = time.perf_counter()
    ttft = None
    tokens = 0
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if ttft is None and any(c.get("delta", {}).get("content") for c in chunk["choices"]):
                ttft = time.perf_counter() - t0
            tokens = chunk.get("usage", {}).get("completion_tokens", tokens)
    end = time.perf_counter() - t0
    return {"latency": end, "ttft": end if ttft is None else ttft, "tokens": tokens}


def call_health(client: httpx.Client, _item: int) -> dict[str, float]:
    t0 = time.perf_counter()
    client.get("/health").raise_for_status()
    return {"latency": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--model", default=None, help="model name or directory (default: bundled)")
    parser.add_argument("--workers", type=int, default=None, help="bash-ai serve --workers (default: its own)")
    parser.add_argument("--peer", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=("all", "batching"), default="all", help="batching: --no-batch vs batched")
    args = parser.parse_args()
    if args.peer is not None:
        run_peer(args.peer, args.model)
        return
    if args.part == "batching":
        batching(args)
        return

    requests = requests_from_pack(args.requests)
    model_args = ["--model", args.model] if args.model else []
    worker_args = ["--workers", str(args.workers)] if args.workers else []
    # No access log: the peer logs nothing either (both would pay the same per-line cost).
    serve = ["serve", "--port", "0", "--queue", "64", "--no-access-log", *worker_args, *model_args]
    ours_cmd = [sys.executable, "-m", "bash_ai", *serve]
    peer_cmd = [sys.executable, __file__, "--peer", str(free_port()), *model_args]
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "model": args.model or "bundled",
        "max_tokens": MAX_TOKENS,
        "workers": args.workers or "default",
    }
    health = list(range(2000))
    for name, cmd in (("peer", peer_cmd), ("bash-ai", ours_cmd)):
        with process(cmd) as url:
            report[f"{name} health"] = load(url, health, call_health, args.concurrency)
            if name == "peer":
                report["peer raw generation"] = load(url, requests, call_peer, args.concurrency)
                report["peer raw generation, 1 client"] = load(url, requests[:50], call_peer, 1)
            else:
                report["bash-ai /generate"] = load(url, requests, call_generate, args.concurrency)
                report["bash-ai /generate, 1 client"] = load(url, requests[:50], call_generate, 1)
                report["bash-ai chat stream"] = load(url, requests, call_chat_stream, args.concurrency)
                report["bash-ai chat stream, 1 client"] = load(url, requests[:50], call_chat_stream, 1)
    print(json.dumps(report, indent=2))
    for key, row in report.items():
        if isinstance(row, dict):
            lat = row["latency_ms"]
            extra = f", first chunk p50 {row['first_chunk_ms']['p50']:.0f} ms" if "first_chunk_ms" in row else ""
            print(
                f"{key:32s} {row['req_per_s']:8.1f} req/s {row['tokens_per_s']:7.0f} tok/s  "
                f"p50 {lat['p50']:7.1f} p90 {lat['p90']:7.1f} p99 {lat['p99']:7.1f} ms{extra}",
                file=sys.stderr,
            )


def batching(args: argparse.Namespace) -> None:
    """``bash-ai serve --no-batch`` (one decode per worker, a worker per core) against the default
    continuous batching (``--workers`` sets the batched server's), the same /generate requests
    from the same number of clients."""
    requests = requests_from_pack(args.requests)
    model_args = ["--model", args.model] if args.model else []
    rows: dict[str, dict[str, Any]] = {}
    batched_workers = ["--workers", str(args.workers)] if args.workers else []
    for name, flags in (("unbatched", ["--no-batch"]), ("batched", ["--batch", *batched_workers])):
        cmd = [sys.executable, "-m", "bash_ai", "serve", "--port", "0", "--queue", "256", "--no-access-log", *flags]
        with process(cmd + model_args) as url:
            rows[name] = load(url, requests, call_generate, args.concurrency)
        lat = rows[name]["latency_ms"]
        print(
            f"{name:10s} {rows[name]['req_per_s']:6.2f} req/s {rows[name]['tokens_per_s']:6.0f} tok/s "
            f"p50 {lat['p50']:6.0f} p99 {lat['p99']:6.0f} ms ({args.concurrency} clients, {len(requests)} requests)"
        )
    speed = rows["batched"]["req_per_s"] / rows["unbatched"]["req_per_s"]
    tail = rows["batched"]["latency_ms"]["p99"] / rows["unbatched"]["latency_ms"]["p99"]
    print(f"batched/unbatched req/s: {speed:.2f}x, p99 batched/unbatched: {tail:.2f}x")


if __name__ == "__main__":
    main()
