"""Rendering replies as WeChat text: byte limits, splitting, numbered choices."""

from __future__ import annotations

import pytest

from bot.messages import Button, OutboundMessage
from channels.base import payload_for_choice
from channels.wechat._render import (
    TEXT_LIMIT_BYTES,
    join_for_passive,
    render_message,
    render_messages,
    reply_buttons,
    split_for_push,
    split_utf8,
    utf8_len,
)


def test_short_text_is_one_part() -> None:
    assert split_utf8("您好") == ["您好"]
    assert split_utf8("") == []


def test_limit_is_in_utf8_bytes_not_characters() -> None:
    text = "办" * 1000  # 1000 characters, 3000 bytes
    parts = split_utf8(text)
    assert len(parts) == 2
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
    assert "".join(parts) == text  # no character lost or cut


@pytest.mark.parametrize("filler", ["办", "a", "😀", "é", "办a😀"])
def test_never_cuts_a_multibyte_character(filler: str) -> None:
    text = filler * 3000
    parts = split_utf8(text, limit=2048)
    assert all(utf8_len(p) <= 2048 for p in parts)
    assert "".join(parts) == text
    for part in parts:
        part.encode("utf-8").decode("utf-8")  # each part is valid on its own


def test_prefers_line_breaks_then_sentence_ends() -> None:
    lines = [f"第{i}项：请携带身份证原件。" for i in range(200)]
    parts = split_utf8("\n".join(lines))
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
    assert all(p.endswith("。") for p in parts)
    assert "\n".join(parts) == "\n".join(lines)

    sentences = "请您携带相关材料到窗口办理。" * 200
    parts = split_utf8(sentences)
    assert all(p.endswith("。") for p in parts)
    assert "".join(parts) == sentences


def test_links_are_not_cut() -> None:
    link = "https://www.dg.gov.cn/zwfw/guide.html?item=a.b.c"
    text = ("请参阅说明 " + link + " ") * 60
    parts = split_utf8(text)
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
    for part in parts:
        for word in part.split():
            assert word in ("请参阅说明", link)


def test_buttons_are_numbered_and_images_are_links() -> None:
    message = OutboundMessage(
        text="请选择：",
        buttons=(Button("查询工单", "/check_ticket"), Button("人工服务", "/request_human")),
        image="https://www.dg.gov.cn/a.png",
    )
    assert render_message(message) == (
        "请选择：\n请回复数字选择:\n1. 查询工单\n2. 人工服务\nhttps://www.dg.gov.cn/a.png"
    )
    assert reply_buttons([message, OutboundMessage(text="x")]) == [
        ("查询工单", "/check_ticket"),
        ("人工服务", "/request_human"),
    ]
    assert reply_buttons([OutboundMessage(text="x")]) == []


def test_buttons_of_several_messages_are_numbered_on() -> None:
    """Two messages with buttons in one reply (the outcome question on a new
    contact, then the answer): the numbers go on, and each names one button."""
    question = OutboundMessage(
        text="办好了吗？", buttons=(Button("已办好", "/online_done"), Button("遇到问题", "/p"))
    )
    answer = OutboundMessage(text="请选择：", buttons=(Button("转人工客服", "/request_human"),))
    texts = render_messages([question, OutboundMessage(text="说明"), answer])
    assert texts == [
        "办好了吗？\n请回复数字选择:\n1. 已办好\n2. 遇到问题",
        "说明",
        "请选择：\n请回复数字选择:\n3. 转人工客服",
    ]
    choices = reply_buttons([question, OutboundMessage(text="说明"), answer])
    assert [payload_for_choice(n, choices) for n in ("1", "2", "3", "4")] == [
        "/online_done",
        "/p",
        "/request_human",
        None,
    ]


def test_join_for_passive_respects_the_limit() -> None:
    assert join_for_passive(["一", "二"]) == "一\n\n二"
    assert join_for_passive(["办" * 600, "办" * 600]) is None


def test_split_for_push_packs_short_texts() -> None:
    assert split_for_push(["一", "二"]) == ["一\n\n二"]
    parts = split_for_push(["办" * 600, "短句。", "办" * 900])
    assert parts == ["办" * 600 + "\n\n短句。", "办" * 682, "办" * 218]
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
