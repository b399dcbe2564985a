"""Ticket notices as template message bodies, and their settings."""

from __future__ import annotations

import pytest

from bot.config import Settings, WeChatNoticeSettings, parse_template_fields
from bot.messages import TicketNotice
from channels.wechat._notice import fit, keyword_limit, template_body

NOTICE = TicketNotice(
    kind="progress",
    number="20261205-000001",
    about="transferred",
    status="已转办",
    detail="已转交东莞市城市管理和综合执法局办理，预计12月9日前答复",
    at="2026年12月05日 14:30",
    due="2026年12月09日",
)


def test_each_keyword_gets_its_field_cut_to_its_type() -> None:
    settings = WeChatNoticeSettings(
        progress_template="T1",
        fields=parse_template_fields(
            "number:character_string1,status:phrase2,detail:thing3,at:time4,due:time5"
        ),
        url="https://12345.dg.gov.cn/t?n={number}",
    )
    body = template_body("openid-1", "T1", NOTICE, settings)
    assert body["touser"] == "openid-1" and body["template_id"] == "T1"
    assert body["url"] == "https://12345.dg.gov.cn/t?n=20261205-000001"
    values = {k: v["value"] for k, v in body["data"].items()}
    assert values["character_string1"] == "20261205-000001"
    assert values["phrase2"] == "已转办"
    assert len(values["thing3"]) == 20 and values["thing3"].endswith("…")
    assert values["thing3"].startswith("已转交东莞市城市管理和综合执法局")
    assert values["time4"] == "2026年12月05日 14:30" and values["time5"] == "2026年12月09日"


def test_old_style_keywords_take_long_values_and_no_url_is_sent_unset() -> None:
    settings = WeChatNoticeSettings(fields=parse_template_fields("number:keyword1,detail:remark"))
    body = template_body("o", "T", NOTICE, settings)
    assert "url" not in body
    assert body["data"] == {
        "keyword1": {"value": NOTICE.number},
        "remark": {"value": NOTICE.detail},
    }
    assert keyword_limit("thing12") == 20 and keyword_limit("remark") == 200
    assert fit("  两个\n空格  ", 20) == "两个 空格"


def test_result_template_falls_back_to_the_progress_one() -> None:
    assert WeChatNoticeSettings().template_for("result") is None
    assert WeChatNoticeSettings(progress_template="P").template_for("result") == "P"
    both = WeChatNoticeSettings(progress_template="P", result_template="R")
    assert (both.template_for("result"), both.template_for("progress")) == ("R", "P")


def test_settings_from_the_environment() -> None:
    env = {
        "WECHAT_TEMPLATE_PROGRESS": "tpl-p",
        "WECHAT_TEMPLATE_RESULT": "tpl-r",
        "WECHAT_TEMPLATE_FIELDS": "number:keyword1, status:keyword2 ,due:keyword3",
        "WECHAT_TEMPLATE_URL": "https://12345.dg.gov.cn/t/{number}",
        "TICKET_RESULT_KEYWORD": "结果",
        "RASA_AUTH_TOKEN": "x" * 32,
        "ACTION_SERVER_TOKEN": "y" * 32,
    }
    notices = Settings.from_env(env).wechat_notices
    assert (notices.progress_template, notices.result_template) == ("tpl-p", "tpl-r")
    assert notices.fields == (("number", "keyword1"), ("status", "keyword2"), ("due", "keyword3"))
    assert notices.url == "https://12345.dg.gov.cn/t/{number}" and notices.keyword == "结果"
    default = Settings.from_env({"RASA_AUTH_TOKEN": "x" * 32, "ACTION_SERVER_TOKEN": "y" * 32})
    assert default.wechat_notices == WeChatNoticeSettings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WECHAT_TEMPLATE_FIELDS", "number", "WECHAT_TEMPLATE_FIELDS"),
        ("WECHAT_TEMPLATE_FIELDS", "colour:keyword1", "WECHAT_TEMPLATE_FIELDS"),
        ("WECHAT_TEMPLATE_FIELDS", "number:keyword1,status:keyword1", "repeats"),
        ("WECHAT_TEMPLATE_FIELDS", "number:key word", "WECHAT_TEMPLATE_FIELDS"),
        ("WECHAT_TEMPLATE_FIELDS", " , ", "at least one"),
        ("WECHAT_TEMPLATE_URL", "javascript:alert(1)", "WECHAT_TEMPLATE_URL"),
        ("TICKET_RESULT_KEYWORD", "请回复这个很长很长的关键词", "TICKET_RESULT_KEYWORD"),
    ],
)
def test_bad_settings_name_the_variable(name: str, value: str, message: str) -> None:
    env = {name: value, "RASA_AUTH_TOKEN": "x" * 32, "ACTION_SERVER_TOKEN": "y" * 32}
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
