"""Model size and Rasa's memory for one trained model (issue 18, "Scale").

Starts Rasa's serving process exactly as scripts/run.sh does
(``python -m hotline_rasa run --enable-api``, one TensorFlow thread per pool)
on a free loopback port with a throwaway var directory, waits until the model
is loaded, and reports:

- the model archive's size (bytes and MiB),
- Rasa's resident memory (RSS of the process and its children) after loading,
- RSS after ``--parses`` messages (default 50) sent to ``/model/parse``,
  taken from eval/heldout (every intent, FAQs, off-topic; in turn),
- the peak RSS of the main process (VmHWM) and the parse latency p50 / p99.

Sizes and memory are in MiB (2^20 bytes), as ``ps``/``top`` count them.
Only the process started here is signalled, by its own process group.

Usage (app environment; ``make rasa-memory`` runs it on the newest model):

    .venv/bin/python benchmarks/rasa_memory.py --model models/<version>.tar.gz [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchmark_procs import (  # noqa: E402 - after the path is set
    RASA_VENV_BIN,
    SCRUBBED_ENV,
    free_port,
    rss_mb,
)

MIB = 1024 * 1024
HELDOUT = ROOT / "eval" / "heldout"
STOP_GRACE = 15.0


def newest_model(folder: Path = ROOT / "models") -> Path:
    """The newest ``*.tar.gz`` in ``folder`` (what ``rasa run --model models`` loads)."""
    models = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"no model in {folder}: train one first (make model)")
    return models[-1]


def sample_messages(count: int, folder: Path = HELDOUT) -> list[str]:
    """``count`` messages taken in turn from the held-out files (every kind of message)."""
    per_file = []
    for path in sorted(folder.glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts = [m.group(1).strip() for line in lines if (m := re.match(r"^\s+- (.+)$", line))]
        if texts:
            per_file.append(texts)
    if not per_file:
        raise SystemExit(f"no example sentences under {folder}")
    mixed: list[str] = []
    for row in range(max(len(t) for t in per_file)):
        mixed.extend(texts[row] for texts in per_file if row < len(texts))
    return [mixed[i % len(mixed)] for i in range(count)]


def peak_rss_mb(pid: int) -> float:
    """VmHWM of one process, in MiB (0 when it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - our own loopback URL
        return json.loads(resp.read())


def _post_json(url: str, body: dict[str, str]) -> object:
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
        return json.loads(resp.read())


def wait_loaded(url: str, token: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until Rasa's /status names a model; fails if Rasa exits or times out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"Rasa exited with code {proc.returncode} while loading; see its log")
        with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
            body = _get_json(f"{url}/status?token={token}")
            if isinstance(body, dict) and body.get("model_file"):
                return time.monotonic() - start
        time.sleep(1.0)
    raise SystemExit(f"Rasa did not load the model within {timeout:.0f} s")


def measure(
    model: Path, parses: int, timeout: float, log_path: Path, warmup: int = 0
) -> dict[str, object]:
    """Start Rasa on ``model``, take its RSS after loading, parse ``warmup``
    messages (their latencies are reported apart, outside p50/p99: the first
    parse after a start builds TensorFlow's graphs) then ``parses`` more, take
    its RSS again and stop it."""
    token = secrets.token_hex(16)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="rasa-memory-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env.update(
            PYTHONPATH=str(ROOT),
            HOTLINE_VAR_DIR=var_dir,
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            RASA_AUTH_TOKEN=token,
            ACTION_SERVER_TOKEN=secrets.token_hex(16),
            ACTION_SERVER_URL="http://127.0.0.1:9",  # never called by /model/parse
        )
        argv = [
            str(RASA_VENV_BIN / "python"), "-m", "hotline_rasa", "run", "--enable-api",
            "--interface", "127.0.0.1", "--port", str(port), "--model", str(model.resolve()),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        ]  # fmt: skip
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                load_s = wait_loaded(url, token, proc, timeout)
                time.sleep(2.0)  # let the loader settle
                rss_loaded = rss_mb(proc.pid)
                messages = sample_messages(warmup + parses)
                warmup_ms = []
                for text in messages[:warmup]:
                    start = time.perf_counter()
                    _post_json(f"{url}/model/parse?token={token}", {"text": text})
                    warmup_ms.append(round((time.perf_counter() - start) * 1000, 1))
                latencies = []
                for text in messages[warmup:]:
                    start = time.perf_counter()
                    _post_json(f"{url}/model/parse?token={token}", {"text": text})
                    latencies.append((time.perf_counter() - start) * 1000)
                rss_parsed = rss_mb(proc.pid)
                peak = peak_rss_mb(proc.pid)
            finally:
                stop_group(proc)
    latencies.sort()
    size = model.stat().st_size
    return {
        "model": str(model),
        "model_bytes": size,
        "model_mib": round(size / MIB, 1),
        "load_seconds": round(load_s, 1),
        "rss_loaded_mib": rss_loaded,
        "warmup_parses_ms": warmup_ms,
        "parses": parses,
        "rss_after_parses_mib": rss_parsed,
        "peak_rss_mib": peak,
        "parse_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "parse_p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)
        if latencies
        else None,
    }


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process we started in its own process group (Rasa here, the
    trainer in knowledge_scale.py), killing it after a grace period."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_GRACE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a model archive (default: newest in models/)")
    parser.add_argument("--parses", type=int, default=50, help="messages to parse (default 50)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for loading")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--log", type=Path, help="Rasa's log (default: a temp file)")
    args = parser.parse_args(argv)
    if args.parses < 1:
        parser.error("--parses must be at least 1")
    model = args.model or newest_model()
    if not model.is_file():
        parser.error(f"no such model archive: {model}")
    log_path = args.log or Path(tempfile.gettempdir()) / f"rasa-memory-{os.getpid()}.log"
    result = measure(model, args.parses, args.timeout, log_path)
    print(
        f"model {model.name}: {result['model_mib']} MiB ({result['model_bytes']} bytes)\n"
        f"Rasa RSS after loading: {result['rss_loaded_mib']} MiB "
        f"(loaded in {result['load_seconds']} s)\n"
        f"Rasa RSS after {result['parses']} parses: {result['rss_after_parses_mib']} MiB "
        f"(peak {result['peak_rss_mib']} MiB)\n"
        f"parse latency p50 {result['parse_p50_ms']} ms, p99 {result['parse_p99_ms']} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
