"""Reading one answer to a form question (actions/answers.py, issue 18):
refusals, negations with their scope, "I don't know", numbers with chatter."""

from __future__ import annotations

import pytest

from actions.answers import (
    Reading,
    corrected_within,
    denied_then,
    find_phone,
    is_bare_negation,
    is_filler,
    leaving,
    mandarin,
    mentions_unknown,
    mistake_said,
    names_place,
    normalise_digits,
    not_but,
    plainly_answers,
    read_free,
    read_mode,
    read_name,
    read_phone,
    says_unknown,
    tail_replaced,
    without_leading_fillers,
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


# --- Cantonese, more "don't know", refusals, no place (forms helper) -------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("唔想留电话", "不想留电话"),
        ("唔使匿名", "不用匿名"),
        ("使唔使留电话", "需不需要留电话"),  # need or not, not "使不用"
        ("唔知边度", "不知哪里"),
        ("我系陈生", "我是陈生"),
        ("联系我", "联系我"),  # 系 of 联系 stays
        ("冇", "没有"),
        ("唔", "唔"),  # alone: a filler
        ("唔该", "谢谢"),
    ],
)
def test_cantonese_function_words_are_read_as_mandarin(text: str, said: str) -> None:
    assert mandarin(text) == said


def test_cantonese_answers_are_read_like_mandarin_ones() -> None:
    assert read_phone("唔想留电话") == Reading("refuse")
    assert read_phone("唔使匿名") == Reading("give")
    assert read_name("唔想讲") == Reading("refuse")
    assert read_name("我系陈生") == Reading("value", "陈生")
    assert read_free("唔知边度", "where") == Reading("unknown")
    assert read_free("唔记得", "when") == Reading("unknown")
    assert is_bare_negation("唔系")
    # what is kept is the citizen's own words
    assert read_free("琴日夜晚", "when") == Reading("value", "琴日夜晚")


@pytest.mark.parametrize(
    "text",
    ["具体时间不太确定", "忘记是哪条路了", "不大记得", "没印象了", "说不准", "不知哪个小区"],
)
def test_more_ways_of_not_knowing(text: str) -> None:
    assert says_unknown(text)


def test_an_explicit_no_place_is_unknown_unless_a_place_is_named() -> None:
    assert read_free("网上买的 没有地点", "where") == Reading("unknown")
    assert read_free("电话里被骗的，没有具体地点", "where") == Reading("unknown")
    assert read_free("没地点", "where") == Reading("unknown")
    assert read_free("南城那边 没有具体地址", "where") == Reading("value", "南城")
    assert read_free("东城 具体哪栋不记得", "where") == Reading("value", "东城")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("不要打电话给我", Reading("refuse")),
        ("别联系我", Reading("refuse")),
        ("不用回访", Reading("refuse")),
        ("还是匿名算了", Reading("refuse")),  # "…算了": just go anonymous
        ("匿名就算了", Reading("give")),  # "…就算了": forget it
        ("匿名还是算了，打我电话", Reading("give")),
    ],
)
def test_refusing_calls_and_the_two_senses_of_suanle(text: str, reading: Reading) -> None:
    assert read_phone(text) == reading


# --- leaving the form, "I said it wrong" ----------------------------------------


@pytest.mark.parametrize(
    ("text", "way"),
    [
        ("不投了 浪费时间", "cancel"),
        ("算了算了 不搞了", "cancel"),
        ("我不投诉了", "cancel"),
        ("不想查了", "cancel"),
        ("还是算了吧", "cancel"),
        ("取消", "cancel"),
        ("算了 下次再说", "cancel"),
        ("我想跟客服本人讲", "human"),
        ("找个真人跟我讲", "human"),
        ("我说不清楚 帮我转个人工吧", "human"),
        ("人工", "human"),
        # answers, not leaving
        ("算了 不留了", None),  # refuses the phone
        ("不用了", None),
        ("不想说", None),
        ("不想跑", None),
        ("物业说不弄了", None),  # describes
        ("跟客服说了好多次都没用 物业还是不管", None),
        ("工作人员态度差", None),
        ("打了12345人工客服电话没人接", None),
        ("人工湖旁边的路灯不亮", None),
        ("我要投诉客服", None),
        ("可以转接客服吗", "human"),
        ("唉", None),
    ],
)
def test_leaving_the_form(text: str, way: str | None) -> None:
    assert leaving(text) == way


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("不好意思 刚才打错字了 是路灯倒了", (True, "路灯倒了")),
        ("等一下 我前面说错了 其实是路灯一直闪", (True, "路灯一直闪")),
        ("错了，东城街道", (True, "东城街道")),
        ("我刚才说错了", (True, None)),
        ("说错了 我重新说", (True, None)),
        ("路灯坏了", (False, None)),
    ],
)
def test_a_mistake_said_with_or_without_the_right_value(
    text: str, said: tuple[bool, str | None]
) -> None:
    assert mistake_said(text) == said


def test_not_in_a_place_but_in_another() -> None:
    assert not_but("不是在塘厦 是在凤岗") == ("塘厦", "凤岗")


# --- round 2 (forms helper): rules found on a second, held-out probe set ----------


def test_more_fillers_unknowns_and_rhetorical_questions() -> None:
    assert is_filler("呃 怎么说呢")
    assert says_unknown("不好讲")
    assert says_unknown("边个记得啊")  # Cantonese "who remembers"
    assert says_unknown("真系唔记得")
    assert read_free("无 线上交易", "where") == Reading("unknown")  # the offered "无"


def test_phone_in_groups_and_refusals_with_jiu_suanle() -> None:
    assert find_phone("我留个座机 0769-8888 6666") == "076988886666"
    assert find_phone("135 1234 567") is None  # ten digits stay ten
    assert read_phone("手机号就算了吧") == Reading("refuse")
    assert read_name("名字就算了") == Reading("refuse")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("免贵姓欧阳", Reading("value", "欧阳")),  # compound surname
        ("登记王小明", Reading("value", "王小明")),
        ("别写我名", Reading("refuse")),
        ("别登记了", Reading("refuse")),
        ("我唔要登记名", Reading("refuse")),
        ("不用登记 叫我老王", Reading("value", "老王")),
    ],
)
def test_more_name_answers(text: str, reading: Reading) -> None:
    assert read_name(text) == reading


def test_a_way_that_does_not_work_out_online_is_offline() -> None:
    assert read_mode("在网上弄不好 还是现场吧") == "offline"


def test_no_need_declines_the_form_only_where_nothing_can_be_refused() -> None:
    assert leaving("不用了", refusable=False) == "cancel"
    assert leaving("不用了 谢谢", refusable=False) == "cancel"
    assert leaving("不用了") is None  # at the phone: refuses it
    assert leaving("不用了 我自己查", refusable=False) is None


# --- round 3 (forms helper): corrections in more words, more Cantonese ------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("不对不对 是上周六 不是上周五", ("上周五", "上周六")),  # the right one first
        ("我要办的是社保卡 不是身份证", ("身份证", "社保卡")),
        ("是大朗不是大岭山", ("大岭山", "大朗")),
        ("不是在塘厦 是在凤岗", ("塘厦", "凤岗")),
    ],
)
def test_is_a_not_b_and_leads_before_it(text: str, said: tuple[str, str]) -> None:
    assert not_but(text) == said


def test_more_cantonese_and_rhetorical_unknowns() -> None:
    assert read_free("嗰度冇地址嘅", "where") == Reading("unknown")
    assert says_unknown("单号我冇记低")  # 记低: wrote down
    assert says_unknown("我哪知道几点")
    assert says_unknown("具体的记不太住了")
    assert read_free("我哪知道具体在哪 大概在石龙吧", "where") == Reading("value", "石龙")
    assert mistake_said(mandarin("上面讲错咗 系鸡叫")) == (True, "鸡叫")


def test_inconvenient_is_a_refusal_and_fei_negates() -> None:
    assert read_phone("不是不想留 是不方便") == Reading("refuse")
    assert read_phone("非匿名") == Reading("give")


# --- round 4 (forms helper): a fourth probe set, with ordinary answers holding the
# words the rules look for ------------------------------------------------------------


def test_a_digit_said_with_how_many_times_it_repeats() -> None:
    assert normalise_digits("尾号四个八") == "尾号8888"
    assert normalise_digits("两个月，三个人") == "两个月，三个人"  # counts of things


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("叫我不留名就好", Reading("refuse")),
        ("名字登记上吧 吴敏", Reading("value", "吴敏")),
        ("名字保密 谢谢", Reading("refuse")),  # 谢谢 is no name
        ("好的 谢谢", Reading("empty")),
    ],
)
def test_names_in_their_own_clause_and_refusals_after_jiaowo(text: str, reading: Reading) -> None:
    assert read_name(text) == reading


def test_cantonese_cannot_and_tickets_never_sent() -> None:
    assert read_mode("老人家唔识用手机 去窗口") == "offline"
    assert says_unknown("你们没给我发过单号")


# --- round 5 (forms helper): thinking aloud, more field names ------------------------


def test_thinking_aloud_is_a_filler_and_is_dropped() -> None:
    assert is_filler("我想想啊") and is_filler("让我想一想")
    assert read_free("让我想想 应该是万江新和社区", "where") == Reading("value", "万江新和社区")
    assert read_free("嗯 我想想啊 应该是上个星期五晚上八点左右吧", "when") == Reading(
        "value", "应该是上个星期五晚上八点左右"
    )
    assert without_leading_fillers("嗯 我想想啊 就是楼下棋牌室天天通宵打麻将") == (
        "就是楼下棋牌室天天通宵打麻将"
    )
    assert without_leading_fillers("嗯") == "嗯"


def test_cannot_say_unwilling_to_be_known_and_a_name_after_jiao() -> None:
    assert says_unknown("说不出具体时间")
    assert read_name("我不想被人知道名字") == Reading("refuse")
    assert read_name("我姓王 叫王大明") == Reading("value", "王大明")


# --- round 6 (forms helper) ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["不整了", "结束吧", "没事了 谢谢", "放弃", "唔搞喇"])
def test_more_ways_of_giving_up(text: str) -> None:
    assert leaving(text) == "cancel"


def test_hedges_alone_say_nothing_and_more_unknowns() -> None:
    assert read_free("大概吧", "when") == Reading("empty")
    assert read_free("可能是半夜", "when") == Reading("value", "可能是半夜")
    assert says_unknown("大概吧 不确定") and says_unknown("天知道") and says_unknown("没看时间")
    assert mistake_said("上一个答案错了 是厚街") == (True, "厚街")


# --- round 7 (forms helper) ---------------------------------------------------------------


def test_round_7_readings() -> None:
    assert read_free("不知道从哪说起", "what") == Reading("unknown")
    assert leaving("我还是打12345电话吧 不在这弄了") == "cancel"
    assert read_free("没有地方 是电话里骗的", "where") == Reading("unknown")
    assert mentions_unknown("编号在短信里 我现在翻不到")
    assert read_phone("电话冇") == Reading("refuse")
    assert read_phone("我不太想留") == Reading("refuse")


def test_a_question_about_a_choice_is_not_the_choice() -> None:
    assert read_phone("匿名的话能查进度吗") == Reading("empty")
    assert read_phone("可以匿名吗") == Reading("refuse")  # asks for it


def test_round_8_readings() -> None:
    assert read_mode("不想跑") == "online" and read_mode("懒得跑") == "online"
    assert read_mode("跑一趟吧") == "offline"
    assert read_free("无具体地址", "where") == Reading("unknown")
    assert mandarin("唔好意思 地址打错咗 应该系万江") == "不好意思 地址打错了 应该是万江"
    assert mandarin("单号系20261205000070") == "单号是20261205000070"


def test_round_9_readings() -> None:
    assert says_unknown("没什么好说的") and says_unknown("位置不方便透露")
    assert says_unknown("完全不记得")
    assert read_free("大约半个月前吧 记得不太清楚", "when") == Reading("value", "大约半个月前")
    assert read_mode("去交警大队") == "offline" and read_mode("到网上办") == "online"
    assert read_mode("交管12123上面弄") == "online"
    assert says_unknown("我冇工單號")  # Cantonese in traditional characters
    assert mandarin("單號") == "单号"


def test_round_10_readings() -> None:
    assert read_free("我都唔知点讲好", "what") == Reading("unknown")  # 点讲: how to say
    assert read_free("等一下再说", "what") == Reading("empty")
    assert leaving("我不是要投诉 我是想问问题") == "cancel"
    assert read_free("这个重要吗 我不知道地址", "where") == Reading("unknown")
    assert says_unknown("不记得几时") and says_unknown("找了半天没找到")
    assert mistake_said("前面说的不对 是装修噪音") == (True, "装修噪音")


def test_dian_is_how_only_after_words_that_ask_how() -> None:
    assert mandarin("地点说错了") == "地点说错了"
    assert mandarin("重点说一下") == "重点说一下"
    assert mandarin("唔知点搞") == "不知怎么搞"


def test_cantonese_words_that_are_also_mandarin_stay() -> None:
    assert mandarin("系统坏了") == "系统坏了"
    assert mandarin("旁边到处是垃圾") == "旁边到处是垃圾"
    assert mandarin("应该系万江") == "应该是万江"


def test_round_11_readings() -> None:
    assert read_free("这个要怎么填", "what") == Reading("empty")  # asks how to answer
    assert read_free("到处都有 说不清哪里", "where") == Reading("unknown")
    assert read_free("具体位置不记得了 反正是在寮步", "where") == Reading("value", "寮步")
    assert says_unknown("不想暴露位置")
    assert not_but("是企石 不是石排 前面打错了") == ("石排", "企石")
    assert not_but("最后三位是998 不是999") == ("999", "998")  # after the field word
    assert read_name("钟小姐就可以") == Reading("value", "钟小姐")


def test_round_12_readings() -> None:
    assert without_leading_fillers("嗯…就是…那个…噪音") == "噪音"
    assert read_free("时间嘛 记不太准了", "when") == Reading("unknown")
    assert read_free("不知道 你们自己查吧", "where") == Reading("unknown")
    assert mistake_said("刚刚说漏了 是红绿灯和路灯都坏了") == (True, "红绿灯和路灯都坏了")
    assert read_name("你不用知道我是谁") == Reading("refuse")
    assert read_free("冇嘢讲", "what") == Reading("unknown")


def test_round_14_readings() -> None:
    # a conjunction before a trailing hedge says nothing
    assert read_free("厚街镇康乐南路 不过不太确定", "where") == Reading("value", "厚街镇康乐南路")
    assert read_free("没得具体地点", "where") == Reading("unknown")  # 没得 = 没有
    assert mandarin("没得到回复") == "没得到回复"
    assert read_free("位置我冇概念", "where") == Reading("unknown")
    assert read_free("地址就别问了", "where") == Reading("unknown")
    assert read_name("我叫什么跟这事没关系") == Reading("refuse")
    assert read_mode("线上搞唔掂 去柜台算") == "offline"
    assert leaving("冇嘢喇 唔使记录", refusable=False) == "cancel"
    assert leaving("冇嘢讲") is None
    assert leaving("请帮我接通话务员") == "human"
    assert mistake_said("刚才说得不清楚 是南城街道蛤地社区") == (True, "南城街道蛤地社区")
    assert not mistake_said("我说不清楚")[0]  # without 得: not knowing


def test_round_15_readings() -> None:
    assert read_free("该从哪说起呢", "what") == Reading("empty")
    assert leaving("唉 算了吧 不折腾了", refusable=False) == "cancel"
    assert leaving("我想直接和值班人员说") == "human"
    assert leaving("有真人客服吗") == "human"
    assert leaving("有客服说过会修") is None  # describes
    for text in ("具体点的位置我给不出", "木有具体地点"):
        assert read_free(text, "where") == Reading("unknown"), text
    for text in ("没得时间概念了", "天晓得", "这我真答不出来", "时间这个就免了吧"):
        assert read_free(text, "when") == Reading("unknown"), text
    assert read_phone("我不要被回访").kind == "refuse"
    assert read_name("称呼嘛 就不必了") == Reading("refuse")
    assert read_name("不用叫我啥") == Reading("refuse")
    assert read_mode("必须要去现场吗 我想网上弄") == "online"  # the question back chooses nothing
    assert read_mode("不在网上办") == "offline"
    assert leaving("停 别再问了") == "cancel"  # "别再问了" alone refuses no one answer
    assert not says_unknown("别再问了")
    assert leaving("停了") is None


# --- answers the NLU misreads, and more ways of saying them (forms helper 2) -----


def test_fillers_said_one_after_another_are_still_fillers() -> None:
    assert is_filler("这个怎么说呢")
    assert is_filler("嗯 那个就是")
    assert read_free("这个怎么说呢", "what").kind == "empty"
    assert not is_filler("这个路灯坏了")


def test_letting_a_worker_speak_asks_for_a_person() -> None:
    assert leaving("能不能让工作人员直接跟我说") == "human"
    assert leaving("让客服跟我说") == "human"
    assert leaving("工作人员态度很差") is None  # describes


@pytest.mark.parametrize(
    "text", ["我也搞不懂是哪条路", "不知道哪天开始的", "弄不明白在哪", "算了 地址不记得了"]
)
def test_not_understanding_and_giving_up_before_not_knowing(text: str) -> None:
    assert says_unknown(text)


def test_giving_up_alone_is_no_unknown() -> None:
    assert not says_unknown("算了")
    assert read_free("算了 时间不记得了", "when").kind == "unknown"
    assert read_free("算了 在虎门太平", "where") == Reading("value", "虎门太平")


def test_a_mistake_said_without_le_before_a_pause() -> None:
    assert mistake_said("刚刚打错字 是茶山") == (True, "茶山")
    assert mistake_said("说错 应该是莞城") == (True, "莞城")
    assert mistake_said("错字连篇的告示") == (False, None)


def test_no_need_with_two_particles_refuses_the_phone() -> None:
    assert read_phone("不用了吧").kind == "refuse"
    assert read_phone("不要了啊").kind == "refuse"


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("懒得去窗口排队", "online"),
        ("亲自去一趟", "offline"),
        ("我走一趟", "offline"),
        ("线上的不要", "offline"),
        ("网上的就算了", "offline"),
        ("网上不用排队", "online"),  # 不用 says what online spares, not a refusal
    ],
)
def test_more_ways_of_choosing_the_way(text: str, mode: str) -> None:
    assert read_mode(text) == mode


def test_no_fixed_place_is_no_place() -> None:
    assert read_free("不固定 到处都有", "where").kind == "unknown"
    assert read_free("地点不固定", "where").kind == "unknown"
    assert read_free("时间不固定", "when").kind == "value"  # irregular times are an answer


def test_any_name_and_a_word_for_anyone_are_no_name() -> None:
    assert read_name("随便叫").kind == "refuse"
    assert read_name("随便你怎么称呼都行").kind == "refuse"
    assert read_name("不想说名字 叫我市民就行").kind == "refuse"
    assert read_name("叫我阿强就行") == Reading("value", "阿强")


@pytest.mark.parametrize(
    ("text", "kind", "answers"),
    [
        ("说不清楚具体位置", "where", True),
        ("虎门太沙路", "where", True),
        ("就我家楼下", "where", True),
        ("没意思", "where", False),
        ("前天下午", "when", True),
        ("记不得了", "when", True),
        ("没意思", "when", False),
        ("不想再被吵了 楼上装修天天电钻", "what", True),
        ("好的", "what", False),
    ],
)
def test_plainly_answers_a_question(text: str, kind: str, answers: bool) -> None:
    assert plainly_answers(text, kind) is answers  # type: ignore[arg-type]


def test_announcing_a_correction_is_saying_a_mistake() -> None:
    assert mistake_said("更正一下 是垃圾桶满了没人倒") == (True, "垃圾桶满了没人倒")
    assert mistake_said("改一下，是东城") == (True, "东城")
    assert mistake_said("改一下地址") == (False, None)  # names the field: parse_correction's


@pytest.mark.parametrize(
    ("text", "value"),
    [("哦不对 是路灯不亮", "路灯不亮"), ("不是 是东城", "东城"), ("不对不对，应该是渗水", "渗水"),
     ("不是这个", None), ("不对", None), ("不是啊 我说的是噪音", "噪音"),
     ("啊不是 我要说的是火锅店油烟", "火锅店油烟")],
)  # fmt: skip
def test_a_no_then_the_right_value(text: str, value: str | None) -> None:
    assert denied_then(text) == value


def test_a_question_word_at_the_end_is_no_question_back() -> None:
    assert says_unknown("这个地方我不知道叫什么")
    assert not says_unknown("这个要写吗")


def test_not_knowing_then_no_place_or_no_time_is_not_knowing() -> None:
    assert read_free("我是路过的 不知道是哪里", "where").kind == "unknown"
    assert read_free("记不清了 万江", "where") == Reading("value", "万江")  # a town
    assert read_free("我是路过的 不记得几点", "when").kind == "unknown"
    assert read_free("不清楚 反正好久了", "when").kind == "value"


def test_a_town_or_a_word_of_place_names_a_place() -> None:
    assert names_place("万江") and names_place("鸿福路口") and names_place("我家楼下")
    assert not names_place("我是路过的")


def test_no_number_with_a_word_between() -> None:
    assert mentions_unknown("我没有那个编号")


def test_no_need_to_go_out_is_online() -> None:
    assert read_mode("最好不用出门") == "online"


def test_not_looking_at_the_sign_and_days_not_remembered_are_not_knowing() -> None:
    assert says_unknown("这个真的不知道 没看路牌")
    assert says_unknown("日子我记唔住")


def test_not_talking_any_more_leaves_only_a_question_that_cannot_be_refused() -> None:
    assert leaving("不说了 没用的", refusable=False) == "cancel"
    assert leaving("不说了", refusable=True) is None  # at the place or the name: won't say


def test_not_for_now_and_later_in_cantonese_leave() -> None:
    assert leaving("唔投诉住 迟啲再讲") == "cancel"
    assert leaving("唔办住", refusable=False) == "cancel"
    assert leaving("我不投诉住户 是投诉物业") is None  # 住 inside a word


def test_a_number_gone_a_phone_changed_and_cannot_say_are_not_knowing() -> None:
    assert mentions_unknown("单号没有了 手机换了")
    assert says_unknown("我唔识讲系边度")


def test_round_six_ways_of_correcting_and_not_knowing() -> None:
    assert mistake_said("补充一下 是888路公交车不停站") == (True, "888路公交车不停站")
    assert mistake_said("上一个问题答错了 应该是13612345679") == (True, "13612345679")
    assert not_but("失业金不是 是医保") == ("失业金", "医保")
    assert not_but("我不是 是说东城") is None
    assert says_unknown("没法说具体位置")
    assert says_unknown("不清楚叫什么路")
    assert says_unknown("我冇睇时间")


# --- round seven (helper i-forms3) ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("13800138000 不对不对 13800138001", ("13800138000", "13800138001")),
        ("东城 哦不是 是莞城", ("东城", "莞城")),
        ("星期二 不对 星期三", ("星期二", "星期三")),
        ("20261127-000123 哦不对是20261127-000124", ("20261127-000123", "20261127-000124")),
        ("楼上漏水，说错了，应该是渗水", ("楼上漏水", "渗水")),
    ],
)
def test_an_answer_corrected_within_itself_is_the_one_meant(
    text: str, meant: tuple[str, str]
) -> None:
    assert corrected_within(text) == meant


@pytest.mark.parametrize(
    "text", ["东城，不是南城", "不对，是东城", "楼下烧烤店天天晚上吵到凌晨", "物业说不对 不管"]
)
def test_no_correction_within_without_a_no_between_two_answers(text: str) -> None:
    assert corrected_within(text) is None


def test_not_a_then_what_is_wanted_after_a_pause() -> None:
    assert not_but(mandarin("唔系身份证呀 我要搞社保卡")) == ("身份证", "社保卡")
    assert not_but("不是要办证 我是要补社保卡") == ("要办证", "社保卡")
    # without a pause 要 belongs to the wrong one
    assert not_but("不是我要投诉的那家 是隔壁那家") == ("我要投诉的那家", "隔壁那家")


def test_not_wanting_alone_leaves_but_not_with_what_is_wanted_instead() -> None:
    assert leaving("我不是要投诉，我是想问问题") == "cancel"
    assert leaving("不是要办证 我是要补社保卡") is None


@pytest.mark.parametrize(
    "text",
    ["我搞不清是星期几", "无法确定时间", "没办法确认是哪天", "我不懂哪个是工单号",
     "我也不知道哪种方便", "单号我冇存低"],
)  # fmt: skip
def test_round_seven_ways_of_not_knowing(text: str) -> None:
    assert says_unknown(text)


def test_no_house_number_is_not_a_place_and_the_bot_not_understanding_is_no_unknown() -> None:
    assert read_free("没门牌号的 不知道怎么说", "where").kind == "unknown"
    assert not says_unknown("说了半天你都不懂")


@pytest.mark.parametrize("text", ["我不希望你们打给我", "不想有人联系我", "别再打电话过来"])
def test_not_wanting_to_be_called_refuses_the_phone(text: str) -> None:
    assert read_phone(text).kind == "refuse"


@pytest.mark.parametrize("text", ["网上不方便 线下吧", "手机上不熟 去大厅办"])
def test_a_way_that_does_not_suit_is_the_other_way(text: str) -> None:
    assert read_mode(text) == "offline"


def test_more_ways_of_saying_a_mistake() -> None:
    assert mistake_said("刚才那个问题我没说清楚 应该是路灯倒了压到车") == (True, "路灯倒了压到车")
    assert mistake_said("不好意思啊 我刚才讲的不准确 是装修噪音") == (True, "装修噪音")
    assert mistake_said(mandarin("等阵 讲错咗 系沙田")) == (True, "沙田")


def test_a_few_digits_replace_the_end_of_a_number() -> None:
    assert tail_replaced("20261127-000123", "000321", 6) == "20261127-000321"
    assert tail_replaced("13812345678", "79", 4) == "13812345679"
    assert tail_replaced("13812345678", "13912345678", 4) is None
    assert tail_replaced("13812345678", "没有数字", 4) is None


def test_round_eight_wordings() -> None:
    assert says_unknown("路名我真的叫不出来")
    assert says_unknown("时间无法回忆")
    assert says_unknown("不懂啊 你们建议哪个")
    assert read_phone("谁说我要匿名了").kind == "give"
    assert read_phone("我哪有说要匿名").kind == "give"
    assert read_mode("网上就算啦 我去派出所") == "offline"
    assert read_mode("唔想去排队") == "online"
    assert is_bare_negation("唔啱")


def test_round_nine_wordings() -> None:
    assert read_free("这个问题不在一个固定的地方", "where").kind == "unknown"
    assert says_unknown("两样都唔识")
    assert read_phone("电话你们就别要了").kind == "refuse"
    assert read_phone("无可奉告").kind == "refuse"
    assert read_mode("网上那个我试过不行 去现场") == "offline"
    assert mandarin("地址系麻涌") == "地址是麻涌"
    assert mandarin("联系") == "联系"


def test_round_ten_wordings() -> None:
    assert read_free("在哪我讲唔清 反正唔系市区", "where").kind == "unknown"
    assert read_free("不是一次两次了 几乎天天", "when") == Reading("value", "几乎天天")
    assert says_unknown("不好估计")
    assert mentions_unknown("单号是什么东西 我没有")
    assert mentions_unknown("搵唔到张单")
    assert read_name("我也不知道该怎么称呼").kind == "refuse"
    assert read_name("我不说名 你叫我街坊就得").kind == "refuse"
    assert read_free("地点就不讲了 怕被认出来", "where").kind == "unknown"
    assert read_mode("窗口人太多 不去了 网上吧") == "online"
    assert read_mode("办事大厅的排队叫号系统经常乱跳") == "offline"


def test_round_eleven_wordings() -> None:
    assert says_unknown("时间上我不太肯定")
    assert says_unknown("具体时间呢 冇印象")
    assert read_free("说来话长 不知从何说起", "what").kind == "unknown"
    assert read_phone("我冇话要匿名喎").kind == "give"
    assert read_name("称呼就写市民吧").kind == "refuse"


def test_round_twelve_wordings() -> None:
    assert says_unknown("时间我记得不太准确")
    assert says_unknown("哎呀这个真记不住")
    assert says_unknown("短信早就清掉了")
    assert read_phone("电话我是不会留的").kind == "refuse"
    assert read_name("名字没必要吧").kind == "refuse"
    assert read_mode("不想请假跑一趟") == "online"


def test_round_thirteen_wordings() -> None:
    assert read_mode("现场就不去了") == "online"
    assert read_name("姓名就免填了").kind == "refuse"
    assert read_name("我不怕 写我真名 吴国强") == Reading("value", "吴国强")
    assert read_free("时间就算了吧 不重要", "when").kind == "unknown"
    assert mistake_said("刚刚描述得不完整 是渣土车撒漏还超速") == (True, "渣土车撒漏还超速")


@pytest.mark.parametrize("text", ["😤😤😤", "👌", "就是那个啥 你懂的", "嗯 🙏"])
def test_symbols_alone_and_vague_words_are_no_answer(text: str) -> None:
    assert is_filler(text)
    assert read_free(text, "what").kind == "empty"
    assert read_name(text).kind == "empty"


def test_an_emoji_next_to_an_answer_leaves_the_answer() -> None:
    assert read_free("📍 寮步镇香市路", "where") == Reading("value", "寮步镇香市路")
    assert not is_filler("📍寮步镇香市路")


def test_a_question_back_about_who_handles_it_is_dropped_from_the_place() -> None:
    assert read_free("东城主山 这种归哪个部门管啊", "where") == Reading("value", "东城主山")
    assert read_free("莞太路口 由什么单位负责", "where") == Reading("value", "莞太路口")
    assert read_free("南城 谁来管", "where") == Reading("value", "南城")


def test_cantonese_what_and_where_words() -> None:
    assert mandarin("冇乜具体位置") == "没有什么具体位置"
    assert mandarin("唔识讲系边") == "不会讲是哪里"
    assert mandarin("喺大朗") == "在大朗"
    assert read_free("冇乜具体位置喔", "where").kind == "unknown"
    assert read_free("嗰度我都唔识讲系边", "where").kind == "unknown"
    in_dalang = read_free("喺大朗 巷头社区 市场门口", "where")
    assert in_dalang == Reading("value", "大朗 巷头社区 市场门口")
    assert mandarin("系边个") == "是谁"  # 边个 (who) is no place


def test_a_name_after_the_word_for_it_and_a_negated_title() -> None:
    assert read_name("不用叫先生 叫我名字阿明就行") == Reading("value", "阿明")
    assert read_name("不用叫先生").kind == "empty"
    assert read_name("黄女士吧 谢谢") == Reading("value", "黄女士")
    assert read_name("叫我阿杰得啦") == Reading("value", "阿杰")
    assert read_name("写个张生得啦") == Reading("value", "张生")
    assert read_name("免贵性张") == Reading("value", "张")  # 性 typed for 姓
    assert read_name("名字登记上吧，吴敏") == Reading("value", "吴敏")


@pytest.mark.parametrize("text", ["我想问人 不想跟机器聊", "唔想同机械人讲", "我要找个真人问问"])
def test_not_wanting_the_machine_asks_for_a_person(text: str) -> None:
    assert leaving(text, refusable=False) == "human"


@pytest.mark.parametrize("text", ["机器人客服不理人", "不想被机器人骚扰"])
def test_a_machine_in_a_description_asks_for_no_one(text: str) -> None:
    assert leaving(text, refusable=False) is None


def test_not_online_is_offline_but_is_it_online_asks() -> None:
    assert read_mode("不是线上 要线下") == "offline"
    assert read_mode("唔系网上") == "offline"
    assert read_mode("是不是线上") == "online"


# --- round 17 -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["I don't know", "i dont remember", "no idea", "idk", "Not sure"])
def test_english_not_knowing_does_not_know(text: str) -> None:
    assert says_unknown(text)
    assert mentions_unknown(text)
    assert read_free(text, "when").kind == "unknown"


def test_english_words_inside_a_description_stay_words() -> None:
    assert not says_unknown("KTV 的 noise 太大了")
    assert read_free("KTV 的 noise 太大了", "what") == Reading("value", "KTV 的 noise 太大了")
    assert mandarin("I know where") == "I know where"
    assert mandarin("noidea") == "noidea"  # not a whole word


@pytest.mark.parametrize("text", ["no phone 谢谢", "No number", "anonymous please"])
def test_an_english_refusal_of_the_phone_is_anonymous(text: str) -> None:
    assert read_phone(text).kind == "refuse"


@pytest.mark.parametrize(
    "text",
    ["你们有没有人工客服 我讲不清楚", "请问你们这里有人工吗", "找个人工问问", "要人工咨询一下"],
)
def test_asking_whether_the_hotline_has_a_person_or_to_ask_one(text: str) -> None:
    assert leaving(text, refusable=False) == "human"
    assert leaving(text) == "human"


@pytest.mark.parametrize("text", ["客服问问题好难", "人工问题", "你们的客服态度很差"])
def test_a_person_in_a_description_is_no_request(text: str) -> None:
    assert leaving(text, refusable=False) is None


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("唔识上网 我自己过去", "offline"),
        ("不会上网", "offline"),
        ("我自己跑一趟", "offline"),
        ("我上网办就行", "online"),
        ("上网查了一下 还是去窗口", "offline"),  # 上网 to look something up chooses nothing
    ],
)
def test_not_using_the_internet_is_offline_and_going_oneself_too(text: str, mode: str) -> None:
    assert read_mode(text) == mode


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("我家楼下 就是常平御景花园", "常平御景花园"),
        ("我们小区 叫万科城", "万科城"),
        ("我们村就是大朗水口村", "大朗水口村"),
    ],
)
def test_a_spot_near_the_citizen_then_its_name_keeps_the_name(text: str, place: str) -> None:
    assert read_free(text, "where") == Reading("value", place)


def test_a_spot_near_the_citizen_alone_is_kept() -> None:
    assert read_free("我家楼下", "where") == Reading("value", "我家楼下")
    assert read_free("我们小区 就是最里面", "where").value == "我们小区 就是最里面"


@pytest.mark.parametrize("text", ["I don't want to leave my number", "no phone", "anonymous"])
def test_english_refusals_of_the_phone(text: str) -> None:
    assert read_phone(text).kind == "refuse"


@pytest.mark.parametrize("text", ["no name", "don't want to give my name"])
def test_english_refusals_of_the_name(text: str) -> None:
    assert read_name(text).kind == "refuse"


@pytest.mark.parametrize(
    "text", ["human please", "talk to a real person", "I want to talk to a human"]
)
def test_an_english_request_for_a_person(text: str) -> None:
    assert leaving(text, refusable=False) == "human"


@pytest.mark.parametrize("text", ["customer service 态度很差", "那个 human resources 部门不理人"])
def test_english_words_of_a_description_ask_for_no_one(text: str) -> None:
    assert leaving(text, refusable=False) is None


@pytest.mark.parametrize(
    ("text", "mode"),
    [("do it online", "online"), ("offline 吧", "offline"), ("in person", "offline")],
)
def test_the_way_said_in_english(text: str, mode: str) -> None:
    assert read_mode(text) == mode


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("南城鸿福路 要多久才处理？", "where", "南城鸿福路"),
        ("东城主山 什么时候有人来", "where", "东城主山"),
        ("昨晚十点左右 你们几天能处理完", "when", "昨晚十点左右"),
        ("上周五 这种情况能不能罚款", "when", "上周五"),
    ],
)
def test_a_question_asked_after_the_place_or_time_is_dropped(
    text: str, kind: str, value: str
) -> None:
    assert read_free(text, kind) == Reading("value", value)  # type: ignore[arg-type]


def test_a_question_alone_or_in_what_happened_is_kept() -> None:
    said = "隔壁工地夜里打桩 要多久才处理"
    assert read_free(said, "what") == Reading("value", said)
    assert read_free("是不是上周五", "when").value == "是不是上周五"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("匿铭", "匿名"),
        ("逆名吧", "匿名吧"),
        ("电话不流了", "电话不留了"),
        ("不清处", "不清楚"),
        ("不记的了", "不记得了"),
        ("往上办", "网上办"),
        ("转人公", "转人工"),
    ],
)
def test_pinyin_homophones_of_the_forms_words_are_read_as_meant(typed: str, meant: str) -> None:
    assert mandarin(typed) == meant


@pytest.mark.parametrize("text", ["主人公", "不流水", "往上走", "不记地方", "不值得"])
def test_words_that_only_look_like_them_stay(text: str) -> None:
    assert mandarin(text) == text


def test_homophone_typos_answer_the_forms() -> None:
    assert read_phone("匿铭").kind == "refuse"
    assert read_phone("电话不流了").kind == "refuse"
    assert read_name("不流").kind == "refuse"
    assert read_free("不清处", "where").kind == "unknown"
    assert read_mode("往上办") == "online"


def test_a_bare_english_no_is_a_bare_negation_and_no_name() -> None:
    assert read_name("no").kind == "empty"
    assert read_name("No").kind == "empty"
    assert read_free("nope", "where").kind == "empty"


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("网上办会不会很麻烦？那还是去现场吧", "offline"),
        ("窗口要排队多久 算了网上弄", "online"),
        ("能不能网上办", "online"),  # a question alone still says which
    ],
)
def test_a_question_about_one_way_chooses_nothing_when_a_clause_chooses(
    text: str, mode: str
) -> None:
    assert read_mode(text) == mode


def test_a_dash_said_between_the_groups_of_a_phone() -> None:
    assert find_phone("一三八杠一二三四杠五六七八") == "13812345678"
    assert find_phone("138横杠1234横杠5678") == "13812345678"


@pytest.mark.parametrize("text", ["匿名可以查进度吗", "匿名还会有人处理吗", "保密的话能回访吗"])
def test_asking_what_anonymity_allows_is_no_choice(text: str) -> None:
    assert read_phone(text).kind == "empty"


@pytest.mark.parametrize("text", ["匿名可以吗", "可以匿名吗", "匿名吧"])
def test_asking_for_anonymity_is_a_choice(text: str) -> None:
    assert read_phone(text).kind == "refuse"


def test_no_thanks_at_the_name_refuses_it_and_leaves_what_happened() -> None:
    assert read_name("不用了谢谢").kind == "refuse"
    assert read_name("唔使啦").kind == "refuse"
    assert leaving("唔该 唔使喇", refusable=False) == "cancel"
    assert leaving("不用了谢谢你", refusable=False) == "cancel"
    assert leaving("谢谢", refusable=False) is None


@pytest.mark.parametrize(
    ("text", "mode"),
    [("我系上班族 冇时间去排队", "online"), ("没空跑", "online"), ("线下吧 周末没空", "offline")],
)
def test_no_time_to_go_is_online(text: str, mode: str) -> None:
    assert read_mode(text) == mode


@pytest.mark.parametrize("text", ["谁会记这个啊", "我唔肯定", "时间嘛 记不太准了"])
def test_more_ways_of_not_knowing_the_time(text: str) -> None:
    assert read_free(text, "when").kind == "unknown"


def test_how_often_is_a_time() -> None:
    assert read_free("很难说 断断续续的", "when") == Reading("value", "断断续续的")
    assert read_free("不记得 反正时不时就有", "when").kind == "value"


def test_no_ticket_number_ever_given_and_a_name_not_convenient() -> None:
    assert mentions_unknown("哪有什么工单号")
    assert read_name("名字不方便").kind == "refuse"
    assert read_phone("电话有点不方便").kind == "refuse"
    assert not says_unknown("谁记录的")


@pytest.mark.parametrize("text", ["cancel", "Stop please", "forget it", "never mind"])
def test_english_cancelling_said_alone(text: str) -> None:
    assert leaving(text, refusable=False) == "cancel"


@pytest.mark.parametrize("text", ["bus stop 旁边", "I forgot"])
def test_english_words_that_do_not_cancel(text: str) -> None:
    assert leaving(text, refusable=False) is None
    assert read_free("bus stop 旁边", "where") == Reading("value", "bus stop 旁边")


@pytest.mark.parametrize("text", ["搵真人同我倾", "可唔可以转人工", "可不可以转人工"])
def test_more_ways_to_ask_for_a_person(text: str) -> None:
    assert leaving(text) == "human"


@pytest.mark.parametrize(
    ("text", "name"),
    [("Mr Chan", "Mr Chan"), ("叫我 Amy 就好", "Amy"), ("陈 😊", "陈"), ("Kevin", "Kevin")],
)
def test_names_with_latin_letters_or_an_emoji(text: str, name: str) -> None:
    assert read_name(text) == Reading("value", name)


def test_no_thanks_refuses_the_name() -> None:
    assert read_name("no thanks").kind == "refuse"


def test_emoji_around_a_place_or_time_are_not_kept() -> None:
    assert read_free("东城 🙏", "where") == Reading("value", "东城")
    assert read_free("🤔 大概上个月中", "when") == Reading("value", "大概上个月中")


@pytest.mark.parametrize("text", ["电话嘛 算了吧", "电话呢 就算了"])
def test_giving_up_an_answer_named_first_refuses_it_and_stays(text: str) -> None:
    assert read_phone(text).kind == "refuse"
    assert leaving(text) is None
    assert leaving("算了吧") == "cancel"  # 算了 alone still leaves


def test_a_name_named_first_then_no_need_refuses_it() -> None:
    assert read_name("名字的话 不用了").kind == "refuse"
    assert read_name("名字嘛 算了").kind == "refuse"


def test_cantonese_not_very_is_not_quite() -> None:
    assert mandarin("我唔系好记得") == "我不太记得"
    assert read_free("我唔系好记得 大概系上个礼拜", "when") == Reading("value", "大概系上个礼拜")
    assert mandarin("唔系好人") == "不是好人"


def test_cantonese_home_and_you_asking_for_a_person() -> None:
    assert read_mode("喺屋企搞掂佢") == "online"
    assert leaving("我唔记得 你帮我转人工啦") == "human"
    assert leaving("你们人工客服态度差", refusable=False) is None
