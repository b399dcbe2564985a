"""Real processes the tests start (the front door as ``python -m bot``, the
action server as ``python -m bot.action_server``): wait for their health check,
failing with the process's log when it exits first or does not answer in time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def wait_until_up(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0
) -> None:
    """Poll ``url`` (a health check) until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - loopback
            return
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{url} did not answer\n{log.read_text()}"
            time.sleep(0.1)


def start_action_server(
    port: int,
    env: Mapping[str, str],
    log: Path,
    actions: str = "actions",
    timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start the action server on the loopback ``port`` with ``env`` (its output
    in ``log``) and wait until its health check answers; stop it on failure."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-m", "bot.action_server", "--actions", actions, "--port", str(port)],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, log, timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


async def wait_until_healthy(
    http: aiohttp.ClientSession,
    base: str,
    proc: asyncio.subprocess.Process,
    log: Path,
    timeout: float = 60.0,  # noqa: ASYNC109 - the test's bound, as in waiting.py
) -> None:
    """Poll the front door's ``/healthz`` at ``base`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.returncode is not None or time.monotonic() > deadline:
            raise AssertionError(await asyncio.to_thread(log.read_text))
        try:
            async with http.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
