"""The safety net's word file (data/danger_words.yml, bot/danger_words.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.danger_words import DANGER_WORDS_FILE, DangerWordsError, load_danger_words


@pytest.mark.parametrize(
    "text",
    [
        "着火了",
        "有人撬门",
        "我老公晕倒了叫不醒",
        "楼下有人打架",
        "我阿爸晕低咗",
        "小孩在商场不见了",
    ],
)
def test_the_shipped_file_hears_danger(text: str) -> None:
    assert load_danger_words(DANGER_WORDS_FILE).heard(text)


@pytest.mark.parametrize(
    "text",
    [
        "晚上打架子鼓太吵",
        "你们打我电话就行",
        "微信绑了银行卡",
        "看材料看得我头都晕了",
        "轮胎漏气了",
        "煤气灶打不着火",
        # told as past: a case to follow up, not a danger now
        "上个月在夜市被人打了 报了警没人跟进",
        # the danger inside a game, a film, a dream, the news
        "游戏里我被人砍了",
        "电影里有人被绑架",
        "昨晚梦见家里着火了",
        "看新闻说外地有工厂爆炸",
        "新闻说外省有个工厂爆炸了",
    ],
)
def test_ordinary_words_and_stories_raise_no_alarm(text: str) -> None:
    assert not load_danger_words(DANGER_WORDS_FILE).heard(text)


def test_quiet_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "words.yml"
    path.write_text("version: 1\ngroups:\n  fire: [着火]\n", encoding="utf-8")
    assert load_danger_words(path).heard("游戏里着火了") == ["着火"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("groups:\n  a: [火]\n", "version must be 1"),
        ("version: 1\ngroups: []\n", "'groups' must map"),
        ("version: 1\ngroups:\n  fire: []\n", "group 'fire' must be a non-empty list"),
        ("version: 1\ngroups:\n  fire: [' ']\n", "group 'fire' has an empty fragment"),
        ("version: 1\ngroups:\n  fire: ['着(火']\n", "group 'fire': '着\\(火'"),
        (
            "version: 1\ngroups:\n  fire: [火]\nquiet: 梦\n",
            "group 'quiet' must be a non-empty list",
        ),
    ],
)
def test_a_malformed_file_is_an_error_naming_the_group(
    tmp_path: Path, body: str, error: str
) -> None:
    path = tmp_path / "words.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DangerWordsError, match=error):
        load_danger_words(path)
