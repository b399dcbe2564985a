"""The WeChat menu file: WeChat's limits, and every click reaching the intent
the dialogue starts from (channels/wechat/menu.yml, data/rules.yml)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from channels.wechat import MENU_FILE, MenuError, load_menu
from channels.wechat._inbound import menu_payload
from channels.wechat._menu import check_menu

ROOT = Path(__file__).resolve().parents[3]

#: What each menu entry must start in the dialogue (the first action of its rule).
EXPECTED = {
    "政策咨询": ("consult", "utter_ask_question"),
    "办事指南": ("request_service_guide", "action_start_service_guide"),
    "我要投诉": ("complain", "action_start_complaint"),
    "我要建议": ("suggest", "action_start_complaint"),
    "查询工单": ("check_ticket", "action_start_ticket_query"),
    "人工客服": ("request_human", "action_handoff"),
}


def clicks(menu: dict[str, Any]) -> dict[str, str]:
    """name -> key of every click button."""
    leaves = [s for b in menu["button"] for s in b.get("sub_button", [b])]
    return {b["name"]: b["key"] for b in leaves if b["type"] == "click"}


def first_actions() -> dict[str, str]:
    """intent -> first action of the rule that starts with it (data/rules.yml)."""
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    found: dict[str, str] = {}
    for rule in rules:
        steps = rule.get("steps") or []
        if rule.get("condition") or len(steps) < 2 or "intent" not in steps[0]:
            continue
        found.setdefault(steps[0]["intent"], steps[1].get("action", ""))
    return found


def test_the_menu_has_the_hotline_entries_within_wechat_limits() -> None:
    menu = load_menu(MENU_FILE)
    assert [b["name"] for b in menu["button"]] == ["咨询办事", "投诉建议", "我的服务"]
    assert clicks(menu).keys() == EXPECTED.keys()


def test_every_click_starts_its_dialogue() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    actions = first_actions()
    for name, key in clicks(load_menu(MENU_FILE)).items():
        payload = menu_payload(key)
        intent, action = EXPECTED[name]
        assert payload == f"/{intent}", name
        assert intent in intents, name
        assert actions.get(intent) == action, name


def _menu() -> dict[str, Any]:
    return copy.deepcopy(load_menu(MENU_FILE))


def _four_top(m: dict[str, Any]) -> None:
    m["button"].append({"type": "click", "name": "更多", "key": "GREET"})


def _six_subs(m: dict[str, Any]) -> None:
    m["button"][0]["sub_button"] *= 3


def _long_top(m: dict[str, Any]) -> None:
    m["button"][0]["name"] = "政策法规咨询"  # 18 bytes


def _unknown_key(m: dict[str, Any]) -> None:
    m["button"][0]["sub_button"][0]["key"] = "LOTTERY"


def _view_without_url(m: dict[str, Any]) -> None:
    m["button"][0]["sub_button"][0] = {"type": "view", "name": "官网", "url": "ftp://x"}


def _bad_type(m: dict[str, Any]) -> None:
    m["button"][0]["sub_button"][0]["type"] = "scancode_push"


def _no_name(m: dict[str, Any]) -> None:
    m["button"][1]["sub_button"][1]["name"] = " "


@pytest.mark.parametrize(
    "spoil",
    [_four_top, _six_subs, _long_top, _unknown_key, _view_without_url, _bad_type, _no_name],
)
def test_a_menu_wechat_or_the_channel_would_refuse_is_refused(spoil: Any) -> None:
    menu = _menu()
    spoil(menu)
    with pytest.raises(MenuError):
        check_menu(menu)


def test_an_unreadable_file_is_a_menu_error(tmp_path: Path) -> None:
    bad = tmp_path / "menu.yml"
    bad.write_text("button: [", encoding="utf-8")
    with pytest.raises(MenuError, match="cannot read"):
        load_menu(bad)
    with pytest.raises(MenuError, match="cannot read"):
        load_menu(tmp_path / "missing.yml")


def test_a_view_button_and_a_top_level_click_are_taken() -> None:
    menu = check_menu(
        {
            "button": [
                {"type": "click", "name": "人工客服", "key": "HUMAN"},
                {"type": "view", "name": "官网", "url": "https://www.dg.gov.cn/"},
            ]
        }
    )
    assert menu["button"][0] == {"name": "人工客服", "type": "click", "key": "HUMAN"}
    assert menu["button"][1]["url"] == "https://www.dg.gov.cn/"
