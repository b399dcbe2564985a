"""deploy/nginx/templates/hotline.conf.template, rendered as nginx's image does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def render(tmp_path: Path) -> str:
    subprocess.run(  # noqa: S603 - our own script
        [str(ROOT / "scripts" / "nginx_render.sh"), str(tmp_path), "10.0.0.1:8080",
         "10.0.0.2:8080", "80"],
        check=True,
    )  # fmt: skip
    return (tmp_path / "conf.d" / "hotline.conf").read_text()


def test_only_the_three_variables_are_substituted(tmp_path: Path) -> None:
    conf = render(tmp_path)
    assert "server 10.0.0.1:8080 " in conf and "server 10.0.0.2:8080 " in conf
    assert "listen 80;" in conf
    assert "${" not in conf
    # nginx's own variables are left for nginx
    for name in ("$http_upgrade", "$proxy_add_x_forwarded_for", "$scheme", "$host", "$uri"):
        assert name in conf


def test_posts_are_never_resent_to_the_other_front_door(tmp_path: Path) -> None:
    lines = [line.partition("#")[0].strip() for line in render(tmp_path).splitlines()]
    retries = [line for line in lines if line.startswith("proxy_next_upstream ")]
    # only when nothing reached the front door (connect error or timeout); no 503
    assert retries == ["proxy_next_upstream error timeout;"]
    joined = " ".join(lines)  # no query strings logged: $uri, never $request or $request_uri
    assert not any(name in joined for name in ("$request_uri", "$request ", '$request"', "$args"))


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (scripts/install.sh as root)")  # fmt: skip
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    render(tmp_path)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run(  # noqa: S603
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "logs" / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
