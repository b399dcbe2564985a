"""Processes of the benchmark: start the action server, Rasa and the front door
on free loopback ports with a throwaway var directory, wait until they are
ready, sample their memory and CPU time, and stop them again.

Only processes started here are ever signalled, by their own process group
(each is started in a new session, so Rasa's helpers go with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp

log = logging.getLogger("benchmark.procs")

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"  # the app environment: front door, action server
#: Rasa's own environment (README, "two environments"); a checkout from before
#: the split has one .venv for everything.
RASA_VENV_BIN = next(
    (d for d in (ROOT / ".venv-rasa" / "bin", VENV_BIN) if (d / "python").exists()), VENV_BIN
)
STOP_GRACE = 15.0
#: The widget's abuse limits off for the load generator (every simulated citizen
#: comes from 127.0.0.1 and sends as fast as Rasa answers): README "web widget".
BENCHMARK_FRONTDOOR_ENV = {
    "WEBCHAT_SESSIONS_PER_MINUTE": "1000000",
    "WEBCHAT_SOCKETS_PER_ADDRESS": "1000000",
    "WEBCHAT_MESSAGE_LIMIT": "1000000",
    "WEBCHAT_FRAME_LIMIT": "1000000",
    # The scheduled jobs (bot/ops: the daily, weekly and monthly reports and
    # the backup) first run OPS_START_DELAY (60 s) after start, and a fresh
    # database has every period due at once: about 6 s of CPU once per period
    # (most of it openpyxl). That is not a cost per message, and it fell inside
    # the measured window; the benchmarks measure the front door's steady state
    # and start the jobs a day later. Older checkouts ignore the variable.
    "OPS_START_DELAY": "86400",
}
BodyCheck = Callable[[object], bool]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Variables of the developer's shell that must not leak into the benchmark's processes.
SCRUBBED_ENV = (
    "REDIS_URL",
    "REDIS_PREFIX",
    "DATABASE_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "WECHAT_ENCODING_AES_KEY",
    "PORT",
    "HOST",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc/*/stat)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                kids.append(int(entry.name))
    return kids


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants that are alive."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB."""
    return round(sum(_rss_kb(p) for p in process_tree(pid)) / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants."""
    return sum(_cpu_ticks(p) for p in process_tree(pid)) / CLOCK_TICKS


def pid_listening_on(port: int) -> int | None:
    """The process listening on 127.0.0.1:``port`` (for services we did not start)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].split(":")[1], 16) == port:
                inodes.add(f"socket:[{parts[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(entry.name)
    return None


@dataclass
class Service:
    """One process of the hotline under test."""

    name: str
    url: str
    pid: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid) if self.pid else None

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid) if self.pid else None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}; see its log")


@dataclass
class Options:
    """What to start and how (from the command line)."""

    rasa_url: str | None
    frontdoor_url: str | None
    action_server_url: str | None
    redis: bool
    redis_url: str
    wechat_token: str | None
    wechat_api_port: int
    log_dir: Path
    startup_timeout: float
    frontdoor_cmd: list[str] | None = None  # default: python -m bot
    frontdoor_root: Path | None = None  # another checkout's front door (default: this one)
    rasa_token: str | None = None  # RASA_AUTH_TOKEN of a reused Rasa
    rest_token: str | None = None  # NAME:TOKEN of a reused front door's REST_TOKENS
    #: 2 or more: as many Rasa servers, and a second front door ("frontdoor-pool",
    #: its own var directory) spreading conversations over all of them
    #: (RASA_URLS); the first front door keeps the first Rasa alone.
    rasa_servers: int = 1


@dataclass
class Services:
    """The three processes, started here or reused; a context manager that stops them."""

    options: Options
    services: dict[str, Service] = field(default_factory=dict)
    var_dir: Path | None = None
    redis_prefixes: list[str] = field(default_factory=list)
    wechat_token: str | None = None
    wechat_app_id: str = "wxbenchmark0000001"
    wechat_app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    # The stack's secrets: Rasa's API and REST channel, the action server, and
    # the front door's REST integration (REST_TOKENS = "<rest_name>:<rest_token>").
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    rest_name: str = "bench"
    rest_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __enter__(self) -> Services:
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- starting --------------------------------------------------------
    def _start_all(self) -> None:
        opts = self.options
        opts.log_dir.mkdir(parents=True, exist_ok=True)
        if opts.frontdoor_url and not opts.rasa_url:
            raise SystemExit("--frontdoor-url needs --rasa-url (the same Rasa it talks to)")
        if opts.rasa_servers > 1 and (opts.rasa_url or opts.frontdoor_url):
            raise SystemExit("--rasa-servers starts its own Rasa servers: no --rasa-url")
        self.var_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
        if opts.rasa_url:
            self.rasa_token = opts.rasa_token or _local_rasa_token()
            self._reuse("rasa", opts.rasa_url)
            actions_url = opts.action_server_url or "http://127.0.0.1:5055"
            self._reuse("actions", actions_url)
        else:
            actions_url = self._start_actions()
            self._start_rasa(actions_url)
            for number in range(2, opts.rasa_servers + 1):
                self._start_rasa(actions_url, f"rasa{number}")
        if opts.frontdoor_url:
            name, _, token = (opts.rest_token or "").rpartition(":")
            if not name or not token:
                raise SystemExit("--frontdoor-url needs --rest-token NAME:TOKEN (its REST_TOKENS)")
            self.rest_name, self.rest_token = name, token
            self._reuse("frontdoor", opts.frontdoor_url)
            self.wechat_token = opts.wechat_token
        else:
            self._start_frontdoor(actions_url)
        if opts.rasa_servers > 1:
            assert self.var_dir is not None
            urls = [s.url for name, s in self.services.items() if name.startswith("rasa")]
            pool_var = self.var_dir / "pool"
            pool_var.mkdir()
            self._start_frontdoor(actions_url, "frontdoor-pool", urls, pool_var)

    def _reuse(self, name: str, url: str) -> None:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        pid = pid_listening_on(port)
        if pid is None:
            log.warning("%s at %s: no local process found; its memory is not reported", name, url)
        self.services[name] = Service(name, url.rstrip("/"), pid)

    def _spawn(
        self, name: str, url: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT
    ) -> None:
        log_path = self.options.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        log.info("starting %s on %s (log: %s)", name, url, log_path)
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.services[name] = Service(name, url, proc.pid, proc, log_file)

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env.update(
            PYTHONPATH=str(ROOT),
            HOTLINE_VAR_DIR=str(self.var_dir),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        return env

    def _start_actions(self) -> str:
        port = free_port()
        env = self._base_env() | {
            "SANIC_HOST": "127.0.0.1",
            "ACTION_SERVER_TOKEN": self.action_token,
        }
        argv = [str(VENV_BIN / "python"), "-m", "bot.action_server", "--actions", "actions"]
        url = f"http://127.0.0.1:{port}"
        self._spawn("actions", url, [*argv, "--port", str(port)], env)
        return url

    def _start_rasa(self, actions_url: str, name: str = "rasa") -> None:
        assert self.var_dir is not None
        endpoints = self.var_dir / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "{actions_url}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
        )
        port = free_port()
        argv = [
            str(RASA_VENV_BIN / "python"), "-m", "hotline_rasa", "run", "--enable-api",
            "--interface", "127.0.0.1", "--port", str(port),
            "--model", "models", "--endpoints", str(endpoints),
            "--credentials", "credentials.yml",
        ]  # fmt: skip
        env = self._base_env() | {
            "RASA_AUTH_TOKEN": self.rasa_token,
            "ACTION_SERVER_TOKEN": self.action_token,
        }
        self._spawn(name, f"http://127.0.0.1:{port}", argv, env)

    def _start_frontdoor(
        self,
        actions_url: str,
        name: str = "frontdoor",
        rasa_urls: list[str] | None = None,
        var_dir: Path | None = None,
    ) -> None:
        port = free_port()
        self.wechat_token = self.wechat_token or secrets.token_hex(16)
        env = self._base_env() | {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "RASA_URLS": ",".join(rasa_urls or [self.services["rasa"].url]),
            # Checkouts before the Rasa pool (--frontdoor-root) read one URL only.
            "RASA_URL": (rasa_urls or [self.services["rasa"].url])[0],
            "ACTION_SERVER_URL": actions_url,
            "WEBCHAT_SECRET": secrets.token_urlsafe(48),
            "RASA_AUTH_TOKEN": self.rasa_token,
            "REST_TOKENS": f"{self.rest_name}:{self.rest_token}",
            # One load generator on one address plays every citizen, each as fast as
            # Rasa answers: the widget's per-address and per-session limits would refuse it.
            **BENCHMARK_FRONTDOOR_ENV,
            "WECHAT_TOKEN": self.wechat_token,
            "WECHAT_APP_ID": self.wechat_app_id,
            "WECHAT_APP_SECRET": self.wechat_app_secret,
            "WECHAT_API_BASE_URL": f"http://127.0.0.1:{self.options.wechat_api_port}",
        }
        if var_dir is not None:
            env["HOTLINE_VAR_DIR"] = str(var_dir)
        if self.options.redis:
            # Each front door its own prefix: two sites, not two replicas of one.
            prefix = f"hotline-bench-{secrets.token_hex(4)}"
            self.redis_prefixes.append(prefix)
            env |= {"REDIS_URL": self.options.redis_url, "REDIS_PREFIX": prefix}
        root = self.options.frontdoor_root or ROOT
        env["PYTHONPATH"] = str(root)
        python = root / ".venv" / "bin" / "python"
        argv = self.options.frontdoor_cmd or [str(python), "-m", "bot"]
        self._spawn(name, f"http://127.0.0.1:{port}", argv, env, cwd=root)

    # --- readiness -------------------------------------------------------
    async def wait_ready(self) -> None:
        """Until Rasa has its model loaded and the front door's /healthz is 200."""
        deadline = time.monotonic() + self.options.startup_timeout
        async with aiohttp.ClientSession() as http:
            status = "/status?" + urllib.parse.urlencode({"token": self.rasa_token})
            for name in self.services:
                if name.startswith("rasa"):
                    await self._poll(http, name, status, deadline, _has_model)
            for name in self.services:
                if name.startswith("frontdoor"):
                    await self._poll(http, name, "/healthz", deadline, _all_ok)

    async def _poll(
        self,
        http: aiohttp.ClientSession,
        name: str,
        path: str,
        deadline: float,
        check: BodyCheck | None,
    ) -> None:
        service = self.services[name]
        while True:
            for each in self.services.values():
                each.check_alive()
            if await _answers(http, service.url + path, check):
                log.info("%s is ready", name)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {self.options.startup_timeout:.0f}s")
            await asyncio.sleep(1.0)

    # --- measuring -------------------------------------------------------
    def memory(self) -> dict[str, float | None]:
        return {name: s.rss_mb() for name, s in self.services.items()}

    def cpu(self) -> dict[str, float | None]:
        return {name: s.cpu_seconds() for name, s in self.services.items()}

    @property
    def transcript_db(self) -> Path | None:
        """The front door's SQLite file, when the front door was started here."""
        return self._db("frontdoor", "")

    @property
    def pool_transcript_db(self) -> Path | None:
        """The SQLite file of the front door over several Rasa servers."""
        return self._db("frontdoor-pool", "pool")

    def _db(self, name: str, sub: str) -> Path | None:
        started = self.services.get(name)
        if started is None or started.proc is None or self.var_dir is None:
            return None
        return self.var_dir / sub / "hotline.db" if sub else self.var_dir / "hotline.db"

    # --- stopping --------------------------------------------------------
    def stop(self) -> None:
        """Stop what was started here (front door first), then remove the temp files."""
        order = sorted(self.services, key=lambda n: (not n.startswith("frontdoor"), n == "actions"))
        for name in order:
            service = self.services[name]
            if service.proc is not None:
                _terminate(service)
        while self.options.redis and self.redis_prefixes:
            _drop_redis_keys(self.options.redis_url, self.redis_prefixes.pop())
        if self.var_dir is not None:
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir = None


def _terminate(service: Service) -> None:
    proc = service.proc
    assert proc is not None
    if proc.poll() is None:
        log.info("stopping %s (pid %d)", service.name, proc.pid)
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", service.name, STOP_GRACE)
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(STOP_GRACE)
    if service.log_file is not None:
        service.log_file.close()
    service.proc = None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal the process group we created for one of our children."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _drop_redis_keys(url: str, prefix: str) -> None:
    try:
        import redis
    except ImportError:
        return
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    except redis.exceptions.RedisError as exc:
        log.warning("could not remove the benchmark's Redis keys: %s", exc)
    finally:
        client.close()


def _local_rasa_token() -> str:
    """A reused Rasa's token: $RASA_AUTH_TOKEN, else the one `make run` generated."""
    token = os.environ.get("RASA_AUTH_TOKEN", "").strip()
    path = Path(os.environ.get("HOTLINE_VAR_DIR") or ROOT / "var") / "rasa_auth.token"
    if not token and path.exists():
        token = path.read_text().strip()
    if not token:
        raise SystemExit("--rasa-url needs --rasa-token (or RASA_AUTH_TOKEN): Rasa's --auth-token")
    return token


def _all_ok(body: object) -> bool:
    """A front door's /healthz with Rasa up: a front door over several Rasa
    servers reports "ok" while one answers, so wait for each one's "ok"."""
    if not isinstance(body, dict):
        return False
    servers = body.get("rasa_servers") or {}
    return body.get("rasa") == "ok" and all(state == "ok" for state in servers.values())


def _has_model(body: object) -> bool:
    return isinstance(body, dict) and bool(body.get("model_file"))


async def _answers(http: aiohttp.ClientSession, url: str, check: BodyCheck | None) -> bool:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            if resp.status != 200:
                return False
            if check is None:
                return True
            body = await resp.json(content_type=None)
            return check(body)
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return False
