"""bot/config.py: one Settings object, read from the environment in one place.

- No module of bot/, channels/ or actions/ but bot/config.py reads the
  environment (os.environ, os.getenv): every setting comes from
  ``Settings.from_env``, built once where the process starts.
- ``Settings.from_env`` reads the mapping it is given, never the process's
  environment, and keeps every setting's name, default and validation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config import (
    ROOT,
    ConsoleSettings,
    Secret,
    ServiceHours,
    Settings,
    TicketSettings,
    load_settings,
)

#: Where the settings are read; every other module gets them passed in.
SETTINGS_MODULE = ROOT / "bot" / "config.py"
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
#: The internal secrets, so that building Settings generates no file under var/.
INTERNAL = {"RASA_AUTH_TOKEN": "r" * 32, "ACTION_SERVER_TOKEN": "a" * 32}


def environment_reads(path: Path) -> list[int]:
    """The lines of ``path`` that use os.environ / os.getenv (and friends)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES:
            found.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id in ENVIRONMENT_NAMES:
            found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [node.lineno for alias in node.names if alias.name in ENVIRONMENT_NAMES]
    return sorted(set(found))


def test_only_the_settings_module_reads_the_environment() -> None:
    sources = [
        path
        for package in ("bot", "channels", "actions")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != SETTINGS_MODULE
    ]
    assert len(sources) > 50  # the tree was found
    reads = [
        f"{path.relative_to(ROOT)}:{line}" for path in sources for line in environment_reads(path)
    ]
    assert reads == [], f"read the setting in bot/config.py (Settings.from_env): {reads}"
    assert environment_reads(SETTINGS_MODULE)  # the scan does find a read


def test_the_scan_finds_every_way_of_reading(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\nfrom os import getenv\nfrom os import environ as e\n"
        "a = os.environ['X']\nb = os.getenv('Y')\nc = getenv('Z')\n"
        '"""os.environ in a docstring is no read"""\n'
    )
    assert environment_reads(probe) == [2, 3, 4, 5, 6]


def test_from_env_reads_the_mapping_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("SERVICE_HOURS", "07:00-08:00")
    settings = Settings.from_env({**INTERNAL, "PORT": "8181"})
    assert settings.port == 8181
    assert settings.console.service_hours.label() == "08:30-21:00"  # the default
    assert load_settings({**INTERNAL}).port == 8080
    monkeypatch.setenv("RASA_AUTH_TOKEN", "r" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    assert load_settings().port == 9999  # the process's environment by default


def test_console_and_ticket_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **INTERNAL,
            "SERVICE_HOURS": "00:00-24:00",
            "CONSOLE_PRESENCE_TTL": "45",
            "CONSOLE_SWEEP_INTERVAL": "2.5",
            "HANDOFF_MAX_WAIT": "600",
            "COOKIE_SECURE": "1",
            "CONSOLE_PASSWORD": "correct-horse-77",
            "TICKET_SWEEP_SECONDS": " 0 ",
            "CASE_API_TOKENS": " case:" + "c" * 20 + " ",
            "LOG_LEVEL": "debug",
            "EVENT_LOOP": "uvloop",
        }
    )
    assert settings.console == ConsoleSettings(
        service_hours=ServiceHours(0, 24 * 60),
        presence_ttl=45.0,
        sweep_interval=2.5,
        max_queue_wait=600.0,
        cookie_secure=True,
        cli_password=Secret("correct-horse-77"),
    )
    assert "correct-horse-77" not in repr(settings)
    assert settings.tickets == TicketSettings(
        sweep_seconds=0.0, api_tokens=Secret("case:" + "c" * 20)
    )
    assert (settings.log_level, settings.event_loop) == ("DEBUG", "uvloop")


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env(INTERNAL)
    assert settings.console == ConsoleSettings() == Settings().console
    assert settings.console.service_hours == ServiceHours.parse("08:30-21:00")
    assert (settings.console.presence_ttl, settings.console.sweep_interval) == (60.0, 10.0)
    assert settings.console.max_queue_wait == 1800.0
    assert not settings.console.cookie_secure and settings.console.cli_password is None
    assert settings.tickets == TicketSettings(sweep_seconds=300.0, api_tokens=None)
    assert (settings.log_level, settings.event_loop) == ("INFO", None)
    assert not hasattr(settings, "extra")  # no back door beside the typed settings


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("SERVICE_HOURS", "all day", "SERVICE_HOURS must look like 08:30-21:00"),
        ("SERVICE_HOURS", "21:00-08:30", "SERVICE_HOURS must be a range within one day"),
        ("CONSOLE_PRESENCE_TTL", "soon", "CONSOLE_PRESENCE_TTL must be a number of seconds"),
        ("HANDOFF_MAX_WAIT", "1h", "HANDOFF_MAX_WAIT must be a number of seconds"),
        ("TICKET_SWEEP_SECONDS", "often", "TICKET_SWEEP_SECONDS must be a number of seconds"),
        ("TICKET_SWEEP_SECONDS", "-1", "TICKET_SWEEP_SECONDS must not be negative"),
        ("WEBCHAT_RATE_WINDOW", "0", "WEBCHAT_RATE_WINDOW must be more than zero"),
        ("CONSOLE_QUEUE_PAGE", "1.5", "CONSOLE_QUEUE_PAGE must be a whole number of at least 1"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Settings.from_env({**INTERNAL, name: value})


#: Variables the README documents that are not the app's settings, and who reads them.
NOT_SETTINGS = {
    "SKIP_TRAIN": "scripts/run.sh (make run)",
    "RASA_PORT": "scripts/run.sh",
    "ACTION_SERVER_PORT": "scripts/run.sh",
    "STARTUP_TIMEOUT": "scripts/run.sh",
    "TF_INTRA_OP_PARALLELISM_THREADS": "Rasa (TensorFlow), set by hotline_rasa",
    "TF_INTER_OP_PARALLELISM_THREADS": "Rasa (TensorFlow), set by hotline_rasa",
    "MODEL_VERSION": "Rasa (hotline_rasa/deployment.py): the model version to load",
}
#: Settings the README's table does not list yet (the README's section on
#: them is pending); every other setting must be in the table.
NOT_IN_README_YET: set[str] = set()
#: ARCHITECTURE.md (the stable interfaces) sits beside the project in the
#: team's checkout (../shared, or ../../shared from a worktree); a fresh clone
#: has only the README.
ARCHITECTURES = [ROOT.parent / "shared" / "ARCHITECTURE.md",
                 ROOT.parent.parent / "shared" / "ARCHITECTURE.md"]  # fmt: skip


def documented_variables() -> set[str]:
    """The variables of the README's configuration table and of ARCHITECTURE.md."""
    names: set[str] = set()
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`", first_cell))
    for architecture in ARCHITECTURES:
        if architecture.exists():
            text = architecture.read_text(encoding="utf-8")
            names.update(n for n in re.findall(r"`([A-Z][A-Z0-9_]{3,})`", text) if "_" in n)
            names.update(re.findall(r"`(PORT)`", text))
    return names


def test_every_documented_variable_is_a_setting() -> None:
    documented = documented_variables()
    assert len(documented) > 60  # the table was found
    settings = Settings.variables()
    missing = sorted(n for n in documented if n not in settings and n not in NOT_SETTINGS)
    assert missing == []
    # and every setting is documented in the README's table
    readme_table = {n for n in documented if n not in NOT_SETTINGS}
    assert set(settings) - readme_table <= NOT_IN_README_YET


def sample(name: str, default: object) -> str:
    """A valid value for ``name`` that differs from ``default``."""
    special = {
        "SERVICE_HOURS": "07:00-20:00",
        "REST_TOKENS": "crm:" + "t" * 20,
        "TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/8",
        "RESTORE_CHECK_DATABASE": "scratch_db",
        "LOG_LEVEL": "debug",
        "RASA_AUTH_TOKEN": "q" * 32,
        "ACTION_SERVER_TOKEN": "w" * 32,
        "TICKET_RESULT_KEYWORD": "看结果",
        "WECHAT_TEMPLATE_FIELDS": "number:keyword1,status:keyword2",
        "WECHAT_TEMPLATE_URL": "https://example.org/tickets/{number}",
        "RASA_URLS": "http://10.0.0.1:5005,http://10.0.0.2:5005",
    }
    if name in special:
        return special[name]
    if isinstance(default, bool):
        return "1"
    if isinstance(default, int):
        return "2" if default != 2 else "3"
    if isinstance(default, float):
        return str(default + 1)
    if isinstance(default, Path):
        return "/tmp/hotline-sample"
    return "sample-value-" + name.lower()


def field_value(settings: object, path: str) -> object:
    for part in path.split("."):
        settings = getattr(settings, part)
    return settings


@pytest.mark.parametrize(("name", "path"), sorted(Settings.variables().items()))
def test_each_variable_sets_its_own_field_and_nothing_else(name: str, path: str) -> None:
    default = Settings.from_env(INTERNAL)
    changed = Settings.from_env({**INTERNAL, name: sample(name, field_value(default, path))})
    assert field_value(changed, path) != field_value(default, path)
    others = {p for p in Settings.variables().values() if p != path}
    assert [p for p in others if field_value(changed, p) != field_value(default, p)] == []
