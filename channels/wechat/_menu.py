"""The Official Account's custom menu: read, checked, and sent to ``menu/create``.

The menu lives in ``channels/wechat/menu.yml`` (outside data/, which is the
model's training input). Before anything is sent the menu is checked the way
WeChat checks it (3 top-level buttons of at most 16 bytes, 1 to 5
sub-buttons of at most 60 bytes, click keys of at most 128 bytes, ``click``
or ``view`` buttons) and, further, every click key must be one the channel
turns into a payload (:func:`channels.wechat._inbound.menu_payload`): a
button whose click would only get "该菜单暂不可用" is refused here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from channels.wechat._inbound import menu_payload

MENU_FILE = Path(__file__).with_name("menu.yml")
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
KEY_BYTES = 128


class MenuError(ValueError):
    """The menu file is not a menu WeChat (or this channel) would take."""


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    """The menu of ``path`` as ``menu/create`` takes it; raises :class:`MenuError`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MenuError(f"{path}: cannot read the menu: {exc}") from None
    return check_menu(raw)


def check_menu(raw: Any) -> dict[str, Any]:
    """``raw`` checked and cleaned to ``{"button": [...]}``; raises :class:`MenuError`."""
    buttons = raw.get("button") if isinstance(raw, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise MenuError("the menu needs 1 to 3 top-level buttons under 'button'")
    return {"button": [_top(b, i) for i, b in enumerate(buttons, 1)]}


def _top(button: Any, index: int) -> dict[str, Any]:
    where = f"button {index}"
    if not isinstance(button, dict):
        raise MenuError(f"{where}: must be a mapping")
    name = _name(button, where, TOP_NAME_BYTES)
    subs = button.get("sub_button")
    if subs is None:
        return {"name": name, **_action(button, where)}
    if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
        raise MenuError(f"{where} ({name}): 'sub_button' needs 1 to 5 buttons")
    items = []
    for j, sub in enumerate(subs, 1):
        sub_where = f"{where}.{j}"
        if not isinstance(sub, dict):
            raise MenuError(f"{sub_where}: must be a mapping")
        items.append({"name": _name(sub, sub_where, SUB_NAME_BYTES), **_action(sub, sub_where)})
    return {"name": name, "sub_button": items}


def _name(button: dict[str, Any], where: str, limit: int) -> str:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MenuError(f"{where}: 'name' is required")
    if len(name.strip().encode()) > limit:
        raise MenuError(f"{where}: name {name!r} is longer than {limit} bytes")
    return name.strip()


def _action(button: dict[str, Any], where: str) -> dict[str, str]:
    kind = button.get("type")
    if kind == "click":
        key = button.get("key")
        if not isinstance(key, str) or not 0 < len(key.encode()) <= KEY_BYTES:
            raise MenuError(f"{where}: a click button needs a 'key' of 1 to {KEY_BYTES} bytes")
        if menu_payload(key) is None:
            raise MenuError(f"{where}: key {key!r} is not a menu key the channel knows")
        return {"type": "click", "key": key}
    if kind == "view":
        url = button.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise MenuError(f"{where}: a view button needs an http(s) 'url'")
        return {"type": "view", "url": url}
    raise MenuError(f"{where}: 'type' must be click or view")
