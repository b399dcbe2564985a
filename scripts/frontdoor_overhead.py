"""The front door's own cost per message, with Rasa taken out of the picture.

    .venv/bin/python scripts/frontdoor_overhead.py [--messages 600] [--json PATH]

``scripts/benchmark.py`` measures the front door against the real Rasa, whose
20-50 ms per turn (depending on the machine) varies by a few milliseconds
from message to message, which is as much as the front door adds. This
script serves an instant fake of Rasa's REST channel (one text reply with
two buttons, as a typical answer) on a free loopback port, starts the front
door (``python -m bot``, a throwaway var directory, SQLite, in-process store)
against it, and sends the same messages one at a time:

- ``direct``: straight to the fake Rasa (the client's and the fake's own cost);
- ``rest``: through ``POST /webhooks/rest/webhook``;
- ``widget``: through the web widget's WebSocket, timed from sending the
  message frame to receiving the reply's transcript frame (a new session every
  5 messages, inside the widget's per-session rate limit).

It prints p50/p95 per path, the front door's added latency (path p50 minus
direct p50) and its CPU time per message (user + system, from /proc). Nothing
here is a pass/fail target: the targets are the benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_procs import ROOT, VENV_BIN, cpu_seconds, free_port  # noqa: E402

WIDGET_SESSION_MESSAGES = 5
REPLY = (
    "您好，这里是东莞12345政务服务智能客服。"
    "居住证可以在“粤省事”小程序申请，也可以到镇街服务中心办理。"
)


def fake_rasa(delay: float = 0.0) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        if delay:
            await asyncio.sleep(delay)  # idle, as the front door sees Rasa at work
        return web.json_response(
            [
                {
                    "recipient_id": body["sender"],
                    "text": REPLY,
                    "buttons": [
                        {"title": "还有问题", "payload": "/consult"},
                        {"title": "转人工客服", "payload": "/request_human"},
                    ],
                }
            ]
        )

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz", "num_active_training_jobs": 0})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/status", status)
    app.router.add_get("/health", lambda _r: web.json_response({"status": "ok"}))
    return app


async def wait_for(url: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in time")


async def rest_path(http: aiohttp.ClientSession, base: str, n: int, tag: str) -> list[float]:
    times = []
    for i in range(n):
        body = {"sender": f"{tag}-{i // 5}", "message": f"居住证怎么办理？第{i}问"}
        start = time.perf_counter()
        async with http.post(base + "/webhooks/rest/webhook", json=body) as resp:
            replies = await resp.json()
        times.append(time.perf_counter() - start)
        if resp.status != 200 or not replies or replies[0].get("text") != REPLY:
            raise RuntimeError(f"{tag}: unexpected answer {resp.status} {replies!r}")
    return times


async def widget_path(http: aiohttp.ClientSession, base: str, n: int) -> list[float]:
    times: list[float] = []
    while len(times) < n:
        async with http.post(base + "/webchat/session") as resp:
            token = (await resp.json())["token"]
        async with http.ws_connect(f"{base}/webchat/ws?token={token}", heartbeat=None) as ws:
            for _ in range(min(WIDGET_SESSION_MESSAGES, n - len(times))):
                frame = {"type": "message", "id": str(uuid.uuid4()), "text": "居住证怎么办理？"}
                start = time.perf_counter()
                await ws.send_str(json.dumps(frame, ensure_ascii=False))
                while True:
                    got = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
                    if got.get("type") == "error":
                        raise RuntimeError(f"widget: {got}")
                    if got.get("type") == "message" and got.get("direction") == "out":
                        break
                times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


async def measure(n: int, delay: float = 0.0) -> dict[str, Any]:
    rasa_port, fd_port = free_port(), free_port()
    runner = web.AppRunner(fake_rasa(delay), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rasa_port).start()
    rasa, base = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{fd_port}"
    with tempfile.TemporaryDirectory(prefix="hotline-overhead-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "HOTLINE_VAR_DIR": var_dir,
            "HOST": "127.0.0.1",
            "PORT": str(fd_port),
            "RASA_URL": rasa,
            "ACTION_SERVER_URL": rasa,
            "WEBCHAT_SECRET": secrets.token_urlsafe(48),
        }
        log = Path(var_dir) / "frontdoor.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter; started once
                [str(VENV_BIN / "python"), "-m", "bot"], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                await wait_for(base + "/healthz", time.monotonic() + 60)
                results: dict[str, Any] = {}
                async with aiohttp.ClientSession() as http:
                    await rest_path(http, base, 50, "warm")  # imports, pools, caches
                    await widget_path(http, base, 20)
                    results["direct"] = summary(await rest_path(http, rasa, n, "direct"))
                    for name in ("rest", "widget"):
                        before = cpu_seconds(proc.pid)
                        if name == "rest":
                            times = await rest_path(http, base, n, "rest")
                        else:
                            times = await widget_path(http, base, n)
                        used = cpu_seconds(proc.pid) - before
                        results[name] = summary(times) | {
                            "added_p50_ms": round(
                                statistics.median(times) * 1000 - results["direct"]["p50_ms"], 2
                            ),
                            "frontdoor_cpu_ms_per_msg": round(used / n * 1000, 2),
                        }
            finally:
                proc.terminate()
                proc.wait(15)
                await runner.cleanup()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600, help="messages per path")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        help="the fake Rasa answers after this idle delay (the front door then idles "
        "while waiting, as it does for the real Rasa)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.messages, args.delay_ms / 1000))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"front door's own cost, {args.messages} messages per path, "
        f"fake Rasa delay {args.delay_ms:g} ms, load average {load}"
    )
    print(f"{'path':8} {'p50 ms':>8} {'p95 ms':>8} {'added p50 ms':>13} {'CPU ms/msg':>11}")
    for name, row in results.items():
        added = row.get("added_p50_ms", "")
        cpu = row.get("frontdoor_cpu_ms_per_msg", "")
        print(f"{name:8} {row['p50_ms']:8} {row['p95_ms']:8} {added!s:>13} {cpu!s:>11}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
