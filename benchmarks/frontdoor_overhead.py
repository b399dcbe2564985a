"""The front door's own cost per message, with Rasa taken out of the picture.

    .venv/bin/python benchmarks/frontdoor_overhead.py [--messages 600] [--delay-ms D]
        [--against DIR] [--json PATH]

``benchmarks/benchmark.py`` measures the front door against the real Rasa, whose
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
direct p50) and its CPU time per message (user + system, from /proc).

``--delay-ms D``: the fake answers after an idle D ms, as the real Rasa keeps
the front door waiting (a process that idles between its steps runs them
more slowly on these VMs; docs/benchmark.md).

``--against DIR``: compare this checkout with another one (e.g. a
``git worktree`` of the previous commit, with a ``.venv`` link). Both front
doors run at once against the same fake, and the messages alternate between
them (who goes first flips every message), so a machine whose speed drifts
from minute to minute slows both alike. It also prints the median of the
paired differences (this minus the other, message by message), which
resolves a tenth of a millisecond where separate runs differ by more.
With ``--against`` it also judges issue 16's gate: on each path this front
door's added p50 and its CPU per message may be at most 10 % worse than the
other's (exit status 1 when one is; docs/benchmark.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_procs import (  # noqa: E402
    BENCHMARK_FRONTDOOR_ENV,
    ROOT,
    VENV_BIN,
    cpu_seconds,
    free_port,
)

WIDGET_SESSION_MESSAGES = 5
# The front doors' REST integration token (REST_TOKENS); older checkouts
# without the setting ignore the header.
REST_TOKEN = secrets.token_urlsafe(32)
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}
REPLY = (
    "您好，这里是东莞12345政务服务智能客服。"
    "居住证可以在“粤省事”小程序申请，也可以到镇街服务中心办理。"
)


def fake_rasa(delay: float = 0.0, replies: int = 1) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        if delay:
            await asyncio.sleep(delay)  # idle, as the front door sees Rasa at work
        answer: list[dict[str, Any]] = [
            {"recipient_id": body["sender"], "text": REPLY} for _ in range(replies)
        ]
        answer[-1]["buttons"] = [
            {"title": "还有问题", "payload": "/consult"},
            {"title": "转人工客服", "payload": "/request_human"},
        ]
        return web.json_response(answer)

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz", "num_active_training_jobs": 0})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/status", status)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/health", health)
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


async def rest_once(
    http: aiohttp.ClientSession, base: str, sender: str, i: int, replies: int = 1
) -> float:
    body = {"sender": sender, "message": f"居住证怎么办理？第{i}问"}
    start = time.perf_counter()
    async with http.post(base + "/webhooks/rest/webhook", json=body, headers=REST_AUTH) as resp:
        answer = await resp.json()
    took = time.perf_counter() - start
    if resp.status != 200 or [r.get("text") for r in answer] != [REPLY] * replies:
        raise RuntimeError(f"{base}: unexpected answer {resp.status} {answer!r}")
    return took


async def rest_path(
    http: aiohttp.ClientSession, base: str, n: int, tag: str, replies: int = 1
) -> list[float]:
    return [await rest_once(http, base, f"{tag}-{i // 5}", i, replies) for i in range(n)]


class WidgetClient:
    """One widget conversation after another (a new session every 5 messages)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, replies: int = 1) -> None:
        self.http = http
        self.base = base
        self.replies = replies
        self.ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self.sent = 0

    async def send_one(self) -> float:
        if self.ws is None or self.sent % WIDGET_SESSION_MESSAGES == 0:
            await self.close()
            async with self.http.post(self.base + "/webchat/session") as resp:
                token = (await resp.json())["token"]
            url = f"{self.base}/webchat/ws?token={token}"
            self.ws = await self.http.ws_connect(url, heartbeat=None)
        self.sent += 1
        frame = {"type": "message", "id": str(uuid.uuid4()), "text": "居住证怎么办理？"}
        start = time.perf_counter()
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
        waiting = self.replies
        while True:
            got = json.loads((await asyncio.wait_for(self.ws.receive(), 10)).data)
            if got.get("type") == "error":
                raise RuntimeError(f"widget: {got}")
            if got.get("type") == "message" and got.get("direction") == "out":
                waiting -= 1
                if waiting == 0:  # the turn's last reply
                    return time.perf_counter() - start

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


@contextlib.asynccontextmanager
async def front_door(root: Path, rasa: str) -> AsyncIterator[tuple[str, int]]:
    """``python -m bot`` of the checkout ``root``, against ``rasa``: (base URL, pid)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hotline-overhead-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env |= {
            "PYTHONPATH": str(root),
            "HOTLINE_VAR_DIR": var_dir,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "RASA_URL": rasa,
            "ACTION_SERVER_URL": rasa,
            "WEBCHAT_SECRET": secrets.token_urlsafe(48),
            "REST_TOKENS": f"overhead:{REST_TOKEN}",
            # One load generator on one address plays every citizen, each as fast as
            # Rasa answers: the widget's per-address and per-session limits would refuse it.
            **BENCHMARK_FRONTDOOR_ENV,
        }
        python = root / ".venv" / "bin" / "python"
        if not python.exists():
            python = VENV_BIN / "python"
        log = Path(var_dir) / "frontdoor.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter; started once
                [str(python), "-m", "bot"], cwd=root, env=env,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                base = f"http://127.0.0.1:{port}"
                await wait_for(base + "/healthz", time.monotonic() + 60)
                yield base, proc.pid
            finally:
                proc.terminate()
                proc.wait(15)


async def measure(
    n: int, delay: float = 0.0, against: Path | None = None, replies: int = 1
) -> dict[str, Any]:
    """Figures per path (``rest``, ``widget``) and front door (``this``, ``other``)."""
    rasa_port = free_port()
    runner = web.AppRunner(fake_rasa(delay, replies), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rasa_port).start()
    rasa = f"http://127.0.0.1:{rasa_port}"
    roots = {"this": ROOT} | ({"other": against} if against else {})
    results: dict[str, Any] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            doors = {name: await stack.enter_async_context(front_door(root, rasa))
                     for name, root in roots.items()}  # fmt: skip
            http = await stack.enter_async_context(aiohttp.ClientSession())
            widgets = {name: WidgetClient(http, base, replies) for name, (base, _) in doors.items()}
            for name, (base, _) in doors.items():  # imports, pools, caches
                await rest_path(http, base, 50, f"warm-{name}", replies)
                for _ in range(20):
                    await widgets[name].send_one()
            results["direct"] = summary(await rest_path(http, rasa, n, "direct", replies))
            order = list(doors)
            for path in ("rest", "widget"):
                times: dict[str, list[float]] = {name: [] for name in doors}
                before = {name: cpu_seconds(pid) for name, (_, pid) in doors.items()}
                for i in range(n):
                    for name in order if i % 2 == 0 else order[::-1]:
                        base = doors[name][0]
                        if path == "rest":
                            sender = f"{path}-{name}-{i // 5}"
                            took = await rest_once(http, base, sender, i, replies)
                        else:
                            took = await widgets[name].send_one()
                        times[name].append(took)
                for name, (_, pid) in doors.items():
                    used = cpu_seconds(pid) - before[name]
                    p50 = statistics.median(times[name]) * 1000
                    results[f"{path}:{name}"] = summary(times[name]) | {
                        "added_p50_ms": round(p50 - results["direct"]["p50_ms"], 2),
                        "frontdoor_cpu_ms_per_msg": round(used / n * 1000, 2),
                    }
                if against:
                    paired = [a - b for a, b in zip(times["this"], times["other"], strict=True)]
                    results[f"{path}:this-other"] = {
                        "paired_median_ms": round(statistics.median(paired) * 1000, 2),
                        "paired_mean_ms": round(statistics.mean(paired) * 1000, 2),
                    }
            for widget in widgets.values():
                await widget.close()
    finally:
        await runner.cleanup()
    return results


#: The gate (issue 16): this checkout's added p50 and CPU per message may be at
#: most this much worse than the other checkout's, on each path.
GATE_WORSE_PCT = 10.0


def gate(results: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(figure, this, other, passed) for each path's added p50 and CPU per message,
    from a run ``--against`` another checkout."""
    rows = []
    for path in ("rest", "widget"):
        this, other = results.get(f"{path}:this"), results.get(f"{path}:other")
        if this is None or other is None:
            continue
        for figure in ("added_p50_ms", "frontdoor_cpu_ms_per_msg"):
            mine, theirs = this[figure], other[figure]
            passed = mine <= theirs * (1 + GATE_WORSE_PCT / 100)
            rows.append((f"{path} {figure}", mine, theirs, passed))
    return rows


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
    parser.add_argument(
        "--replies", type=int, default=1, help="messages in each of the fake Rasa's answers"
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout to compare with, message by message (see the module doc)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.against and not (args.against / "bot" / "__main__.py").exists():
        parser.error(f"{args.against} is not a checkout of this project")
    against = args.against.resolve() if args.against else None
    results = asyncio.run(measure(args.messages, args.delay_ms / 1000, against, args.replies))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"front door's own cost, {args.messages} messages per path, "
        f"fake Rasa delay {args.delay_ms:g} ms, {args.replies} replies per answer, "
        f"load average {load}"
    )
    if args.against:
        print(f"this = {ROOT}, other = {args.against.resolve()}")
    print(f"{'path':16} {'p50 ms':>8} {'p95 ms':>8} {'added p50 ms':>13} {'CPU ms/msg':>11}")
    for name, row in results.items():
        if "paired_median_ms" in row:
            print(
                f"{name:16} paired difference: median {row['paired_median_ms']} ms, "
                f"mean {row['paired_mean_ms']} ms"
            )
            continue
        added = row.get("added_p50_ms", "")
        cpu = row.get("frontdoor_cpu_ms_per_msg", "")
        label = name.removesuffix(":this") if not args.against else name
        print(f"{label:16} {row['p50_ms']:8} {row['p95_ms']:8} {added!s:>13} {cpu!s:>11}")
    verdicts = gate(results)
    for figure, mine, theirs, passed in verdicts:
        change = (mine / theirs - 1) * 100 if theirs else float("inf")
        verdict = "PASS" if passed else "FAIL"
        print(f"gate: {figure} {mine} against {theirs} ({change:+.1f} %, at most "
              f"+{GATE_WORSE_PCT:g} %) {verdict}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(passed for *_, passed in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
