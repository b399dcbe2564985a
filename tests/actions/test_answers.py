"""Reading one answer to a form question (actions/answers.py, issue 18):
refusals, negations with their scope, "I don't know", numbers with chatter."""

from __future__ import annotations

import pytest

from actions.answers import (
    Reading,
    find_phone,
    is_bare_negation,
    is_filler,
    normalise_digits,
    not_but,
    read_free,
    read_mode,
    read_name,
    read_phone,
    says_unknown,
)

# --- digits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("一三八一二三四五六七八", "13812345678"),
        ("幺三九 零零零零 八八八八", "139 0000 8888"),
        ("后四位是三四五六", "后四位是3456"),
        ("１３８００１３８０００", "13800138000"),
        ("两三天了，一个月前", "两三天了，一个月前"),  # not numbers
    ],
)
def test_chinese_and_full_width_digits(text: str, digits: str) -> None:
    assert normalise_digits(text) == digits


# --- the phone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # the defect: a negated 匿名 is not a refusal
        ("不需要匿名", Reading("give")),
        ("不用匿名的", Reading("give")),
        ("别给我搞匿名", Reading("give")),
        ("我不是要匿名，打我电话就行", Reading("give")),
        ("不要匿名，13912345678", Reading("value", "13912345678")),
        ("匿名吧", Reading("refuse")),
        ("我要匿名", Reading("refuse")),
        ("电话就不留了", Reading("refuse")),
        ("不方便留电话", Reading("refuse")),
        ("没有手机", Reading("refuse")),
        ("不想让老板知道是我", Reading("refuse")),
        ("跳过", Reading("refuse")),
        # double negation: willing after all
        ("也不是不想留，就是还没想好", Reading("give")),
        ("不是不愿意给，怕骚扰，算了还是匿名", Reading("refuse")),
        ("也不是不能留 号码一八六零零零零一二三四", Reading("value", "18600001234")),
        # numbers with chatter, spaces, landlines
        ("我手机139-1234-5678，白天打", Reading("value", "13912345678")),
        ("座机0769 22123456", Reading("value", "076922123456")),
        ("1391234567", Reading("empty")),  # ten digits
        ("电话是多少来着", Reading("empty")),
    ],
)
def test_phone_answers(text: str, reading: Reading) -> None:
    assert read_phone(text) == reading


def test_find_phone_keeps_the_old_contract() -> None:
    assert find_phone("12912345678") is None
    assert find_phone("１３９１２３４５６７８") == "13912345678"


# --- the name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("刘先生", Reading("value", "刘先生")),
        ("叫我阿梅就好", Reading("value", "阿梅")),
        ("我叫周杰", Reading("value", "周杰")),
        ("免贵姓林", Reading("value", "林")),
        ("我姓何，何女士", Reading("value", "何女士")),
        ("名字嘛也不是不能说，称呼我老郑吧", Reading("value", "老郑")),
        ("名字不用登记", Reading("refuse")),
        ("不告诉你", Reading("refuse")),
        ("别写我名字", Reading("refuse")),
        ("匿名", Reading("refuse")),
        ("嗯", Reading("empty")),
        ("不是", Reading("empty")),
        ("你们为什么要问这个", Reading("empty")),
    ],
)
def test_name_answers(text: str, reading: Reading) -> None:
    assert read_name(text) == reading


# --- place, time, what happened -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "reading"),
    [
        ("就在莞城西城楼那边", "where", Reading("value", "莞城西城楼")),
        ("地址是常平镇站前路", "where", Reading("value", "常平镇站前路")),
        ("没有", "where", Reading("unknown")),
        ("我也说不清楚具体在哪", "where", Reading("unknown")),
        ("哦", "where", Reading("empty")),
        ("不对", "where", Reading("empty")),
        ("不是石龙，是石排", "where", Reading("value", "石排")),
        ("想不起来了，好像是周三早上", "when", Reading("value", "好像是周三早上")),
        ("忘记了", "when", Reading("unknown")),
        ("从上个月开始每天都有", "when", Reading("value", "从上个月开始每天都有")),
        ("不清楚是谁家的狗天天叫", "what", Reading("value", "不清楚是谁家的狗天天叫")),
        ("不知道该怎么说", "what", Reading("unknown")),
    ],
)
def test_free_answers(text: str, kind: str, reading: Reading) -> None:
    assert read_free(text, kind) == reading  # type: ignore[arg-type]


def test_fillers_negations_and_unknowns() -> None:
    assert is_filler("嗯嗯") and is_filler("好的 啊") and not is_filler("好的 东城")
    assert is_bare_negation("不是啊") and not is_bare_negation("不是东城")
    assert says_unknown("单号找不到了，短信删了") and not says_unknown("在东城不知道哪栋")


# --- corrections ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("不是万江，是东城", ("万江", "东城")),
        ("刚才说错了，不是噪音是油烟", ("噪音", "油烟")),
        ("搞错了 我要办的不是护照 是港澳通行证", ("护照", "港澳通行证")),
        ("不是", None),
    ],
)
def test_not_a_but_b(text: str, said: tuple[str, str] | None) -> None:
    assert not_but(text) == said


# --- online or offline ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("网上办", "online"),
        ("不想跑窗口，手机上办", "online"),
        ("别网上的", "offline"),
        ("我不会用手机，去大厅吧", "offline"),
        ("网上搞不懂", "offline"),
        ("随便", None),
        ("都可以", None),
    ],
)
def test_way_answers(text: str, mode: str | None) -> None:
    assert read_mode(text) == mode


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("不用了", Reading("refuse")),
        ("+86 138 0013 8000", Reading("value", "13800138000")),
        ("8613800138000", Reading("value", "13800138000")),
        ("不要电话联系我", Reading("refuse")),
    ],
)
def test_more_phone_answers(text: str, reading: Reading) -> None:
    assert read_phone(text) == reading


def test_trailing_unknown_clauses_are_dropped_and_lost_numbers_are_unknown() -> None:
    assert read_free("大概是上周吧，具体哪天忘了", "when") == Reading("value", "大概是上周")
    assert says_unknown("没有单号") and says_unknown("没收到短信")
    assert read_name("不需要称呼") == Reading("refuse")


def test_negation_after_the_word_and_no_fixed_place() -> None:
    assert read_phone("匿名就不用了") == Reading("give")
    assert read_phone("我没说要匿名") == Reading("give")
    assert read_phone("可以匿名吗") == Reading("refuse")
    assert read_free("没有具体地点", "where") == Reading("unknown")
