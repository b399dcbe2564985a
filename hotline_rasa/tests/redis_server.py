"""A Redis server of a test's own, with a password and optionally TLS, on a
loopback port: what a production Redis asks of its clients (``requirepass``,
``rediss://``). Started from Debian's redis-server (built with TLS), with a
throw-away CA and server certificate made by the openssl command; stopped and
deleted when the test ends. Standard library only: the Rasa environment's
tests (hotline_rasa/tests) and the app's (tests/) both use it.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


@dataclass(frozen=True)
class SecuredRedis:
    port: int
    password: str
    tls: bool
    ca_file: Path | None

    @property
    def url(self) -> str:
        """The URL the hotline's processes take (REDIS_URL)."""
        scheme = "rediss" if self.tls else "redis"
        query = f"?ssl_ca_certs={self.ca_file}" if self.ca_file else ""
        return f"{scheme}://:{self.password}@127.0.0.1:{self.port}/0{query}"


class RedisUnavailable(RuntimeError):
    """This machine cannot run such a server (no redis-server or openssl, or a
    redis-server built without TLS): the test is skipped, saying why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)  # noqa: S603


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost: (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=hotline test CA", "-keyout", "ca.key", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=folder)  # fmt: skip
    # what Python 3.13's strict verification asks of a server certificate
    (folder / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt",
             cwd=folder)  # fmt: skip
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


@contextmanager
def secured_redis(folder: Path, *, tls: bool) -> Iterator[SecuredRedis]:
    """A redis-server with ``requirepass`` (and TLS only, no plain port, when
    ``tls``) under ``folder``; yields once it accepts connections."""
    if not Path(REDIS_SERVER).exists() or (tls and not Path(OPENSSL).exists()):
        raise RedisUnavailable("redis-server (and for TLS the openssl command) is not installed")
    password = secrets.token_urlsafe(24)
    port = _free_port()
    args = [REDIS_SERVER, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--requirepass", password]  # fmt: skip
    ca = None
    if tls:
        ca, cert, key = make_certificates(folder / "tls")
        args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert),
                 "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
                 "--tls-auth-clients", "no"]  # fmt: skip
    else:
        args += ["--port", str(port)]
    log = folder / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                said = log.read_text()[-2000:]
                if tls and "tls" in said.lower():
                    raise RedisUnavailable(f"redis-server refused TLS: {said}")
                raise RuntimeError(f"redis-server stopped: {said}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield SecuredRedis(port, password, tls, ca)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
