"""Reading a citizen's answer to one form question (issue 18).

Citizens do not answer "13812345678" or "匿名": they say "不需要匿名，你打我
电话吧", "也不是不能留，你记一下186…", "记不太清，大概上个礼拜五下午",
"后四位是三四五六". This module reads such an answer for one question and
says what it means, without side effects (the validation actions in
complaints.py, guidance.py and tickets.py decide what to store and say):

- :func:`read_phone`: a number (also said in Chinese digits or with chatter),
  a refusal (anonymous), or "not anonymous" without a number (ask for it);
- :func:`read_name`: a name out of "叫我李女士就行" / "我姓黄，黄小姐", or a
  refusal ("别登记我名字", "名字就不用留了");
- :func:`read_free`: a place, a time or what happened, with "不清楚" /
  "记不得了" (unknown), fillers ("嗯") and bare negations ("不是") told apart
  from an answer;
- :func:`read_mode`: online or offline, negations included ("不要网上的");
- :func:`normalise_digits`: Chinese and full-width digits to ASCII.

Negation has a scope: "不需要匿名" and "不是匿名" negate 匿名, "不是不愿意留"
negates a refusal; an answer of several clauses is decided by its last clause
that says something about it ("不是不愿意留，就是怕被打扰，还是匿名吧").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.cantonese import load_cantonese
from bot.dispatch.towns import TownsError, load_towns

#: What an answer means. ``value``: an answer (``Reading.value``); ``refuse``:
#: the citizen will not say (a phone refused = anonymous); ``unknown``: the
#: citizen does not know; ``give``: the phone will be given but is not in the
#: message ("不需要匿名"); ``empty``: nothing usable (a filler, a bare "不是",
#: a malformed number): the question is asked again.
Kind = Literal["value", "refuse", "unknown", "give", "empty"]


@dataclass(frozen=True)
class Reading:
    kind: Kind
    value: str | None = None


# --- digits -------------------------------------------------------------------

_CN_DIGIT = {
    "零": "0", "〇": "0", "○": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1",
    "二": "2", "两": "2", "贰": "2", "三": "3", "叁": "3", "四": "4", "肆": "4",
    "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8", "九": "9", "勾": "9", "玖": "9",
}  # fmt: skip


def digit_value(ch: str) -> int | None:
    """The value of one digit said in Chinese ("零", "两", "玖") or written, else None."""
    if ch.isdigit():
        return int(ch)
    return int(_CN_DIGIT[ch]) if ch in _CN_DIGIT else None


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_DIGIT_CHARS = "0-9" + "".join(_CN_DIGIT)
#: A run of at least three digits said one by one ("一五九八…", "三四五六",
#: "138 一二三四 5678"), spaces and dashes allowed between them.
_DIGIT_RUN = re.compile(rf"[{_DIGIT_CHARS}](?:[\s\-]*[{_DIGIT_CHARS}]){{2,}}")


#: A digit said with how many times it repeats: "四个八" is 8888, "三个6" 666.
_COUNT = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_REPEATED = re.compile(
    r"([两二三四五六七八])个([0-9零〇一幺二三四五六七八九])(?![个月天年次号点人块])"
)


def normalise_digits(text: str) -> str:
    """Full-width digits and runs of three or more Chinese digits as ASCII digits.

    Shorter runs stay as they are: "两三天", "一个月" are not numbers."""
    text = text.translate(_FULL_WIDTH)
    text = _REPEATED.sub(lambda m: m.group(2) * _COUNT[m.group(1)], text)

    def ascii_run(match: re.Match[str]) -> str:
        run = match.group(0)
        return "".join(_CN_DIGIT.get(ch, ch) for ch in run)

    return _DIGIT_RUN.sub(ascii_run, text)


# --- Cantonese -----------------------------------------------------------------

#: The Cantonese words (data/language/cantonese.yml, the word table the NLU
#: reads too: hotline_rasa/cantonese.py) as their Mandarin meaning, for
#: *reading* an answer (what is stored keeps the citizen's words): "唔想留电话"
#: refuses like "不想留电话", "唔使匿名" negates 匿名 like "不用匿名", "唔知边度"
#: does not know. The rules below depend on the sentence around a word and are
#: this reader's own, read before (:data:`_CANTONESE_FIRST`) and after
#: (:data:`_CANTONESE_THEN`) the table's words.
_WORDS = load_cantonese()

#: Read on the answer as written, before the table's words would take theirs.
_CANTONESE_FIRST = (
    # "唔系好记得" (not very): 不太, before the word 唔系 (不是)
    (re.compile(r"(?:唔系|唔係|不是)好(?=记得|記得|清楚|肯定|确定|知道|识|熟)"), "不太"),
    # "冇嘢喇": nothing more (that is all), before the words 冇 and 嘢
    (re.compile(r"冇(?:嘢|事)(?=[喇啦了咯]+(?:[\s，,。!！]|$))"), "没事了"),
    # "系边", "喺边" at the end: is where, at where ("唔识讲系边"), before 喺 (在)
    (re.compile(r"系边(?=[了啊呀吧哦嘛呢啦喇嘞咯噃]*(?:[\s，,。!！?？]|$))"), "是哪里"),
    (re.compile(r"喺边(?=[了啊呀吧哦嘛呢啦喇嘞咯噃]*(?:[\s，,。!！?？]|$))"), "在哪里"),
)

#: Read after the table's words, on what they made of the answer.
_CANTONESE_THEN = (
    # a 唔 the words left, before a word: 不 ("唔想"); alone it is a filler ("嗯")
    (re.compile(r"唔(?=[\u4e00-\u9fff])(?!唔)"), "不"),
    (re.compile(r"(?<=没有|唔係|不是)话(?=要|过|系|是|我)|(?<=[没唔不])话(?=要|过)"), "说"),
    # 系 is 是 only after a subject or an adverb, at the start of a clause, before
    # a number or after a field's name: "联系", "系统" stay
    (re.compile(
        r"(?<=[我你他她佢都就唔不真又也仲还咪该])系(?!统|列|数)"
        r"|(?:^|(?<=[\s，,。]))系(?=[\u4e00-\u9fff\d])(?!统|列|数|里|着|好)|系(?=\d)"
    ),
     "是"),
    (re.compile(
        r"(?:(?<=地址)|(?<=地点)|(?<=位置)|(?<=时间)|(?<=电话)|(?<=号码)|(?<=名字)|(?<=单号)"
        r"|(?<=编号)|(?<=尾号)|(?<=正确)|(?<=应该)|(?<=其实))系"
    ), "是"),
    (re.compile(r"(?<=[记存写抄录留])低"), "下"),  # "记低", "冇存低": written down
    # 点 as "how" ("唔知点讲") only after such words: 地点说错了 stays
    (re.compile(r"(?:^|(?<=[知我你要会识都又\s，,]))点(?=讲|说|做|办|搞|样|算|写|填)"), "怎么"),
)


#: Traditional characters of the words the forms read (Hong Kong / Taiwan input).
_TRADITIONAL = str.maketrans(
    "單號碼電話記們時間點這裡裏沒說訴證辦補換領戶網線發過還會嗎麼個對錯應該認識謝請問題區鎮門樓"
    "處醫險稅駕駛罰違學業營執錄簽準後幾來給讓邊車機場聽東長鳳崗橋龍實際麻煩寫輸記憶忘談講無",
    "单号码电话记们时间点这里里没说诉证办补换领户网线发过还会吗么个对错应该认识谢请问题区镇门楼"
    "处医险税驾驶罚违学业营执录签准后几来给让边车机场听东长凤岗桥龙实际麻烦写输记忆忘谈讲无",
)


def english_words(pattern: str) -> re.Pattern[str]:
    """English words as a whole, in any case: not inside a longer word (next to
    Chinese is fine: "办passport")."""
    return re.compile(rf"(?<![A-Za-z])(?:{pattern})(?![A-Za-z])", re.IGNORECASE)


#: English a citizen mixes into an answer, as the Chinese it means, for
#: *reading* it (never stored): "I don't know" does not know, "no phone"
#: refuses the phone, "anonymous" is 匿名.
_ENGLISH = (
    (english_words(
        r"(?:i\s*)?(?:really\s*)?(?:don['’]?t|do\s+not|didn['’]?t|did\s+not)\s+(?:know|remember|recall)"
        r"(?:\s+(?:it|that|where|when|which))?|dunno|idk|no\s+(?:idea|clue)|not\s+sure"
        r"|(?:i\s+)?forgot(?:\s+it)?|i\s+forget"
    ), "不知道"),
    # "forget it", "never mind": 算了 (given up, unless something else is said)
    (english_words(r"forget\s+it|never\s*mind|nvm"), "算了"),
    # the whole message only: "stop" may be a bus stop in a place
    (re.compile(r"^\s*(?:cancel|quit|exit|stop)(?:\s+(?:it|this|please))?[\s.!！]*$", re.I),
     "取消"),
    (english_words(r"no\s+thanks?|no\s+thank\s+you"), "不用了谢谢"),
    (english_words(r"no\s+(?:phone|number|mobile|cell(?:phone)?)"), "不留电话"),
    (english_words(r"no\s+name"), "不留名字"),
    # "I don't want to leave my number", "don't want to give my name"
    (english_words(
        r"(?:i\s+)?(?:don['’]?t|do\s+not|dont)\s+want\s+to\s+(?:leave|give|share|say|tell)"
        r"(?:\s+(?:you|it|my|a|the|any))*(?:\s+(?:phone|number|mobile|name))?"
    ), "不想留"),
    (english_words(r"anonymous(?:ly)?"), "匿名"),
    # the English names of documents ("办 passport", "ID card 丢了")
    (english_words(r"passports?"), "护照"),
    (english_words(r"(?:id|identity)\s*cards?"), "身份证"),
    (english_words(r"driv(?:er['’]?s?|ing)\s*licen[cs]es?"), "驾照"),
    (english_words(r"business\s*licen[cs]es?"), "营业执照"),
    (english_words(r"residence\s*permits?"), "居住证"),
    (english_words(r"social\s*security\s*cards?"), "社保卡"),
    (english_words(r"birth\s*certificates?"), "出生证"),
    (english_words(r"hukou"), "户口"),
    # "human please", "talk to a real person": a person asked for
    (english_words(
        r"(?:(?:i\s+)?(?:want\s+to\s+)?talk\s+to\s+)?(?:a\s+)?(?:real\s+person|human(?!\s+resource)(?:\s+agent)?"
        r"|operator|live\s+agent|someone\s+real)(?:\s+please)?"
    ), "人工"),
    (english_words(r"thanks|thank\s+you|thx"), "谢谢"),
    (english_words(r"in\s+person"), "现场"),
    # a bare "no" / "yes" (after the phrases above): "不", "是的"
    (english_words(r"no|nope|nah"), "不"),
    (english_words(r"yes|yeah|yep|yup"), "是的"),
)  # fmt: skip


def english(text: str) -> str:
    """The English phrases of :data:`_ENGLISH` in an answer as Chinese (to read it)."""
    for pattern, repl in _ENGLISH:
        text = pattern.sub(repl, text)
    return text


def mandarin(text: str) -> str:
    """Cantonese function words in Mandarin, to read an answer (never stored);
    traditional characters as simplified ones, English phrases as Chinese,
    pinyin initials as their words (:func:`read_initials`)."""
    return _cantonese(english(text))


#: Pinyin initials citizens type for the hotline's commonest words ("gjj余额
#: 在哪看", "sfz掉了"), each unambiguous in a hotline message (sb, hk are not:
#: an insult, Hong Kong). Read only as a whole run of Latin letters. The NLU
#: reads the same (hotline_rasa/hotline_gate.py ``PINYIN_INITIALS``, Rasa's
#: environment, not imported here): tests/test_pinyin_initials.py holds this
#: copy and ``read_initials`` to it. Each is as long as its words, so
#: :func:`as_written` finds the citizen's "sfz" for a value read as 身份证.
PINYIN_INITIALS = {
    "gjj": "公积金",
    "sfz": "身份证",
    "jzz": "居住证",
    "sbk": "社保卡",
    "ybk": "医保卡",
    "hkb": "户口本",
    "jsz": "驾驶证",
    "yyzz": "营业执照",
}
_INITIALS = re.compile(
    r"(?<![a-z])(" + "|".join(PINYIN_INITIALS) + r")(?![a-z])", re.IGNORECASE
)


def read_initials(text: str) -> str:
    """``text`` with the pinyin initials of ``PINYIN_INITIALS`` as their words."""
    return _INITIALS.sub(lambda match: PINYIN_INITIALS[match.group(1).lower()], text)


#: Full-width Latin letters ("ｓｆｚ", typed in a Chinese input's full-width
#: mode) as ASCII, for reading (the NLU reads NFKC, which does the same).
_FULL_WIDTH_LATIN = str.maketrans(
    {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)


#: Pinyin input's homophones of the words the forms read, where the typed word
#: means nothing else there: "匿铭" (匿名), "电话不流了" (不留), "不清处"
#: (不清楚), "往上办" (网上办). For reading only.
_HOMOPHONES = (
    (re.compile(r"[匿逆腻溺][铭名命明鸣]|匿[铭命明鸣]"), "匿名"),
    (re.compile(r"不[流刘](?![水血泪汗通动畅传行程言])"), "不留"),
    (re.compile(r"不清[处出础储]"), "不清楚"),
    (re.compile(r"不[记计纪寄](?:的|德|地(?![方点址]))"), "不记得"),
    (re.compile(r"不[只值直知支][道到]"), "不知道"),
    (re.compile(r"往上(?=办|弄|搞|申请|操作|提交|填)"), "网上"),
    (re.compile(r"线尚|線尚"), "线上"),
    (re.compile(r"窗扣"), "窗口"),
    (re.compile(r"人[公攻功](?=客服|服务|坐席)|(?<=[转找要])人[公攻功]"), "人工"),
)


#: Everyday words for what the service catalog names otherwise: Guangdong's
#: 电鸡 and 电驴 are 电动车 (e-bikes), 挂牌 / 攞牌 / 办个牌 are 上牌. The catalog
#: keeps 4-8 aliases per service (scripts/check_knowledge_services.py), so the
#: spoken variants are read here, for matching a service name (never stored).
_EVERYDAY_WORDS = (
    (re.compile(r"电鸡|小电驴|电驴子?|电摩"), "电动车"),
    (re.compile(r"(?:挂|攞|拿|办|上)(?:个|块|一个)?牌(?:照|子)?"), "上牌"),
)


def _cantonese(text: str) -> str:
    """:func:`mandarin` without the English (read before splitting clauses:
    "human resources" is no "human")."""
    # "sfz补办", "ｓｆｚ补办": 身份证补办
    text = read_initials(text.translate(_TRADITIONAL).translate(_FULL_WIDTH_LATIN))
    for pattern, repl in _HOMOPHONES:
        text = pattern.sub(repl, text)
    for pattern, repl in _CANTONESE_FIRST:
        text = pattern.sub(repl, text)
    text = _WORDS.read(text)
    for pattern, repl in _CANTONESE_THEN:
        text = pattern.sub(repl, text)
    for pattern, repl in _EVERYDAY_WORDS:
        text = pattern.sub(repl, text)
    return text


# --- clauses and fillers --------------------------------------------------------

_SPLIT = re.compile(r"[，,。.!！?？;；、…~～\s]+|(?=但是|不过|可是)")
_FILLER = re.compile(
    r"^(?:(?:嗯+|啊+|哦+|噢+|喔+|呃+|额+|唔+|哈+|诶|欸|哎|唉|好的?|好吧|行|行吧|是的?|对的?|可以|"
    r"ok|okay|收到|知道了|明白|那个啥|这个啥|那啥|那个|这个|emm+|en+|怎么说|怎么讲|咋说|点讲|点说|就是说|"
    # "你懂的": the listener is to guess; says nothing
    r"你懂的|你懂得|你知道的|懂的都懂|"
    # an emoji or a symbol alone ("😤😤", "👌"): no words at all
    r"[^\w\s]|"
    # "就是…那个…噪音", "时间嘛": fillers and a topic said before the answer
    r"就是|然后|所以|反正|(?:具体的?)?(?:时间|地点|地址|位置|名字|姓名|称呼|电话|号码|单号|尾号)(?:嘛|的话|呢)|"
    # "说来话长": no answer yet
    r"说来话长|一言难尽|"
    # "该从哪说起呢": no answer yet
    r"(?:该|要|得)?从(?:哪|何)(?:里|儿)?(?:说|讲)起|"
    # "等一下再说": not now
    r"等一下(?:再说)?|等等|稍等|待会儿?(?:再说)?|"
    # a hedge alone says nothing: "大概吧", "可能吧"
    r"大概|可能|也许|应该|好像|差不多|"
    # thinking aloud: "我想想啊", "让我想一想", "我看看"
    r"(?:让我|等我|我)?想(?:一)?想|(?:让我|等我|我)?想一下|(?:让我|我)看看|我看一下)"
    # several in a row: "这个怎么说呢", "嗯那个就是"
    r"[了啊呀吧哦嘛呢]*)+$",
    re.IGNORECASE,
)
_BARE_NEGATION = re.compile(
    r"^(?:不是|不对|不|错了|不是的|不是啊|不是这个|没|否)[了啊呀吧哦嘛呢]*$"
)
_END = "了啊呀吧哦嘛呢啦哈喇嘞咯噃"


def clauses(text: str) -> list[str]:
    """The clauses of an answer: split at punctuation, spaces and 但是/不过/可是."""
    return [part for part in _SPLIT.split(text.strip()) if part]


def without_leading_fillers(text: str) -> str:
    """The answer without the "嗯", "我想想啊" it opens with (the rest as written)."""
    rest = text.strip()
    for part in clauses(rest):
        if not _FILLER.match(part):
            break
        rest = rest[rest.find(part) + len(part) :].lstrip("，,。.!！?？;；、…~～ \t")
    return rest or text.strip()


def is_filler(text: str) -> bool:
    """Nothing but "嗯", "好的", "啊" and the like (or nothing at all)."""
    parts = clauses(text)
    return all(_FILLER.match(part) for part in parts)


def is_bare_negation(text: str) -> bool:
    """Only "不是" / "不对" (with fillers): says no, gives nothing."""
    parts = [mandarin(part) for part in clauses(text) if not _FILLER.match(part)]
    return bool(parts) and all(_BARE_NEGATION.match(part) for part in parts)


# --- "I don't know" -----------------------------------------------------------

_UNKNOWN = re.compile(
    r"不知道|不清楚|不太清楚|不大清楚|搞不清|弄不清|(?:搞|弄|闹|看)不(?:懂|明白)|不记得|记不得|记不清|记不太清|记不起|记不住|"
    r"忘了|忘记|忘掉|想不起|说不上来|说不清|讲不清|说不好|不晓得|唔知|唔记得|不确定|没注意|没留意|"
    r"没看清|没(?:有)?(?:看|注意|留意)(?:路牌|门牌|路名|地址|钟|表)|不了解|不详|不明|未知|找不到|找不着|删了|删掉|丢了|不见了|没保存|没存|没记|"
    r"没有?(?:收到|记下|记住|保存|留意|存下|抄下|写下|留下)|没有(?:那个|这个|什么)?(?:单号|工单号|编号|短信)|换号了|号码换了|"
    r"(?:单号|工单号|编号|短信)(?:也|都)?没(?:有)?了|(?:手机|号码|电话)(?:号)?(?:也|都)?换了|"
    r"不会(?:讲|说|形容|描述)|没(?:法|办法)(?:说|讲|描述|形容|讲清|说清)|"
    # "冇乜具体位置" (没什么具体位置)
    r"(?:没有?|无)(?:什么|啥)?(?:具体|固定|确切|准确)?的?(?:地点|地址|位置|地方|时间|日期|门牌号?|路名|街名|路牌)|"
    # "无法确定时间", "没办法确认"
    r"(?:无法|没法|没办法|不能|不敢)(?:确定|确认|肯定|判断|回忆|想起|记起)|(?<![你都])不懂|"
    # "时间我记得不太准确", "短信早就清掉了"
    r"记得?不(?:太|大|是很)?(?:准确?|清楚?|牢)|清掉|清空|清除|删除|"
    # "路名我真的叫不出来", "回忆不起"
    r"(?:叫|喊|认)不出|回忆不(?:起|出)|不好(?:估计|判断|确定|形容)|(?:无法|没法)估计|估(?:计)?不(?:出|了)|"
    # "不在一个固定的地方", "两样都不会"
    r"不(?:在|是)(?:一个)?(?:固定|具体)的?(?:地点|地址|位置|地方)|"
    r"(?:两样|两种|两个|哪样|哪个)(?:都|也)(?:不会|不懂|不清楚|不知道|搞不懂|不熟)|"
    r"(?:找|翻|看|查|搜)不(?:到|着|见|出)(?:来)?|没有?(?:找|翻|查|搜)(?:到|着|见)|"
    # "不太确定", "不大记得", "没印象", "说不准"
    r"不(?:太|大|很|是很)(?:确定|肯定|记得|知道|清楚)|不知|没有?(?:印象|概念|头绪)|印象不深|说不准|讲不准|拿不准|不好说|"
    # "不好讲", "难说", and the rhetorical "谁记得啊" / "哪记得"
    r"没有?(?:给我|跟我)?(?:发|给|告诉)(?:过|我)*(?:单号|工单号|编号|短信|号码)|"
    r"说不出|讲不出|答不上|想不出|不好讲|难说|难讲|天知道|鬼知道|谁(?:还|会)?(?:记得|记住|记(?![录者账]))|不肯定|"
    # "哪有什么工单号": none was ever given
    r"哪(?:有|来|里有)(?:什么|啥)?(?:单号|工单号|编号|短信)|"
    # "位置我给不出", "这我真答不出来", "天晓得"
    r"(?:给|提供|答|回答)不(?:出|了|上)|(?:天|鬼|谁)晓得|"
    r"看不到|查不到|找不见|没(?:有)?(?:看|在意)(?:时间|清楚|清|到)|哪(?:里|儿)?(?:还|会|能)?(?:记得|知道|晓得)|"
    # "记不太住", "想不太起来"
    r"记不(?:太|大)?(?:清|得|住|起|准)|想不(?:太|大)?起|"
    # "你们自己查吧": the hotline is to find out
    r"(?:你们|你)(?:自己)?(?:去)?(?:查|找|看)"
)
_WONT = re.compile(
    r"不想说|不想讲|不愿意说|不方便说|不告诉|不说了|不讲了|跳过|略过|不填|下一个|下一题|保密|"
    # "位置不方便透露", "没什么好说的"
    r"不(?:想|愿意?|方便|便)(?:说|讲|透露|告诉|提供|暴露|公开)|没有?(?:什么|啥|嘢|东西)(?:好)?(?:说|讲)的?"
    r"|无可奉告|拒绝(?:回答|透露|提供)|不予(?:回答|透露|提供)|恕不(?:回答|透露|奉告)"
    # "时间就算了吧，不重要"
    r"|(?:时间|日期|地点|地址|位置)(?:这个|这项|这一项|这块)?(?:就|也|还是)?(?:算了|免了|跳过|不填了?|不写了?)|不重要|无所谓"
    # "地址就别问了", "名字不用问" (the answer named: "别再问了" alone stops it all)
    r"|(?:时间|日期|地点|地址|位置|名字|姓名|称呼|电话|号码)(?:这个)?(?:就|也|你们|你)?"
    r"(?:别|不要|不用|不必|甭)(?:再)?(?:问|打听)(?![题])"
    # "我叫什么跟这事没关系": said not to matter
    r"|(?:跟|和|与)(?:这|此|这个|这件)?(?:事|事情|件事|投诉)?(?:没有?|无)(?:什么|啥)?关(?:系)?"
)
_NOTHING = re.compile(
    r"^(?:我|我都|我也)?(?:无|没有|没|暂无|没得|冇|冇啊|不存在)[了啊呀吧哦嘛呢]*$"
)
#: What is left of a "don't know" clause that says nothing else
#: ("具体哪栋我也说不上来", "单号找不到了").
_CHATTER = re.compile(
    r"我们|你们|他们|我|也|都|还|就|这个|那个|具体的?|到底|究竟|"
    # "哪条路", "哪个小区", "哪一天"
    r"哪(?:一)?(?:条|个|栋|间|家|座|段|天|日|号|种|样)(?:路|街|村|巷|楼|小区|社区|马路|时候)?|"
    # "搞不清是星期几", "不知道哪种方便"
    r"星期几|礼拜几|周几|几月|(?:比较)?(?:方便|好|合适)|"
    r"哪里|哪儿|哪个|哪栋|哪天|哪|怎么|咋|如何|从|起|讲|说|门牌|路名|街名|名称|"
    r"描述|形容|表达|了|啊|呀|呢|吧|哦|的|是|在|个|栋|号|时间|地点|地址|位置|日期|几点|什么时候|"
    r"什么|当时|啥|真的|实在|确实|太|有点|嗯|呃|额|这|那|工单|单号|编号|号码|电话|手机|尾号|后四位|"
    r"短信|被|留|给|名字|称呼|该|事情|问题|情况|清楚|楚|反正|其实|所以|暂时|现在|一下|一时|记得|"
    r"哎呀|哎|唉|真的?|早就|早已|已经|概念|头绪|印象|"
    # "厚街镇康乐南路，不过不太确定": a conjunction says nothing
    r"不过|但是|可是|只是|"
    r"完全|根本|压根|一点|几时|几号|多少|半天|来着|自己|开始|发生|出现|地方|日子|钟数|几点钟|"
    r"叫(?:什么|啥)(?:名字|名|路|街|村|小区|地方)?|"
    r"[" + _END + "]"
)


def _says_unknown(clause: str) -> bool:
    """A clause saying only that the citizen does not know (or will not say)."""
    clause = mandarin(clause)
    if _NOTHING.match(clause):
        return True
    for pattern in (_UNKNOWN, _WONT):
        if pattern.search(clause):
            rest = _CHATTER.sub("", pattern.sub("", clause))
            if len(rest) <= 1:
                return True
    return False


#: A clause asking something back ("这个重要吗"): it answers nothing.
_QUESTION = re.compile(
    r"(?:吗|(?<![什怎这那多])么)$"  # "叫什么" asks nothing back
    # "你们建议哪个": which one, asked back
    r"|(?:建议|推荐|觉得|说)(?:一下)?哪(?:个|种|样)(?:好|方便|比较好)?$"
    # "这种归哪个部门管啊", "谁来处理": who handles it, asked back
    r"|(?:归|由|找|是|该)?(?:哪个|哪|什么)(?:部门|单位)(?:来)?(?:管|负责|处理)?(?:的)?"
    r"[" + _END + r"]*$"
    r"|谁(?:来)?(?:管|负责|处理)(?:的)?[" + _END + r"]*$"
)
#: A question asked back after an answer: how long, when someone comes, whether
#: it can be done ("要多久才处理", "什么时候有人来", "能不能罚款").
_ASKS_BACK = re.compile(
    r"多久|多长时间|几天|几时(?:能|会|可以|有人|来)|什么时候(?:能|会|可以|有人|来|处理|解决|回复|答复|派)"
    r"|怎么(?:办|处理|解决|投诉)|能不能|会不会|可不可以|可以不可以|是不是|为什么|为啥|凭什么"
    r"|(?:谁|哪个部门|什么部门)(?:来)?(?:管|负责|处理)|(?:有没有|有冇)(?:人|用)|[吗么]$"
)


def asks_back(clause: str) -> bool:
    """A clause asking something after the answer ("你们几天能处理完")."""
    return bool(_ASKS_BACK.search(mandarin(clause)))


#: Asking how to answer ("这个要怎么填", "什么意思"): no answer yet.
_ASKS_HOW = re.compile(
    r"^[^，,。]{0,6}(?:怎么填|怎么写|填什么|写什么|要说什么|说什么|什么意思|啥意思)"
    r"[" + _END + r"]*$"
)


def says_unknown(text: str) -> bool:
    """Every clause says "I don't know" (or is a filler, or a question back),
    and one says it."""
    # English phrases first: "I don't know" is one clause, not three words
    parts = [part for part in clauses(english(text)) if not _FILLER.match(part)]
    told = [part for part in parts if not _QUESTION.search(part)]
    # "算了，地址不记得了": giving up on the answer, not on the form
    told = [part for part in told if not _BARE_CANCEL.match(mandarin(part))] or told
    return bool(told) and all(_says_unknown(part) for part in told)


def mentions_unknown(text: str) -> bool:
    """The message says somewhere that the citizen does not know or cannot find it."""
    text = mandarin(text)
    return bool(
        _UNKNOWN.search(text)
        or _WONT.search(text)
        or any(_NOTHING.match(part) for part in clauses(text))  # "单号是什么东西 我没有"
    )


# --- leaving the form ------------------------------------------------------------

#: A clause that abandons what is being done: "不投了", "不想查了", "不用办了",
#: "取消投诉", "下次再说". It must *start* the clause: "物业说不弄了" describes.
_CANCEL_CLAUSE = re.compile(
    r"^(?:那|那就|我|我就|我还是|还是|那还是|先|就|算了)*"
    r"(?:(?:不|不想|不要|不用|不打算|懒得|没必要)(?:再|继续)?(?:在这里?|在这儿|在这边|在网上)?"
    r"(?:投诉|投|举报|反映|查|查询|办|办理|弄|搞|整|折腾|问|咨询|提交)(?:下去)?(?:了|啦|咯|喇|$"
    # "唔投诉住" (not for now): 住 / 先 end the clause
    r"|(?:住|先)(?=[" + _END + r"]*$))"
    r"|(?:我要|我想|帮我|麻烦)?(?:取消|退出|撤销|撤回|结束|终止|放弃)"
    r"(?:投诉|登记|查询|办理|本次|这次|吧)?[" + _END + r"]*$"
    r"|(?:下次|改天|以后|有空|迟啲|迟些|晚点|晚些|回头)再(?:说|讲|办|弄|查|投诉|来|搞)"
    r"|没(?:什么)?事了[" + _END + r"]*$"
    # "停", "停下": stop
    r"|停(?:下|止|下来)?[吧啦啊呀喇!！]*$"
    # "我不是要投诉，我是想问问题"
    r"|(?:不是|没)(?:要|想)(?:投诉|举报|办|查|登记)(?:的|了|啦|事)?(?=[" + _END + r"]*$))"
)
#: "算了" alone: abandons only when nothing else is said ("算了，不留了" refuses a phone).
_BARE_CANCEL = re.compile(
    r"^(?:那|那就|还是|我还是|那还是)?(?:算了|算啦|算喇|算咯|罢了)+[" + _END + r"]*$"
)
#: Asking for a person: "转人工", "找个真人跟我讲", "可以转接客服吗". The whole
#: clause is the request: "打了人工客服电话没人接", "跟客服说了好多次" describe.
_HUMAN = re.compile(
    r"^(?:我|你|你们|您|那|就|还是|请|麻烦|帮我|给我|可以|能不能|能否|有没有|直接|可不可以|可以不可以)*"
    r"(?:想|要|需要|得)?(?:直接)?(?:帮我)?(?:转接|接通|连线|转给|转|找|接|换|叫|要|请|让|跟|和|同|联系)?(?:个|一个|下|一下)?"
    r"(?:你们的?)?(?:人工|真人|活人|客服|工作人员|接线员|话务员|坐席|值班(?:人员|员|的))"
    r"(?:客服|服务|坐席|人员|本人|小姐|来|直接|亲自|跟我|和我|同我)*"
    # "找个人工问问", "要人工咨询一下": asking a person
    # "搵真人同我倾" (Cantonese 倾: talk)
    r"(?:讲|说|聊|沟通|谈|对话|处理|问问?|咨询|倾偈|倾|帮我[\u4e00-\u9fff]{0,4})?"
    r"(?:一下|下|好了|可以吗|行吗|吗)?"
    r"[" + _END + r"]*$"
)


#: "不用了" alone: at a question that cannot be refused (what happened, which
#: service, the ticket number) it declines the whole thing; at the phone or
#: the name it refuses that answer.
_NO_NEED = re.compile(
    r"^(?:那|那就|哦|噢)?(?:不用|不需要|不要|不必|没必要)(?:了|啦|咯)?[" + _END + r"]*"
    r"(?:谢谢|多谢|感谢)?(?:你|您|你们)?[" + _END + r"]*$"  # "不用了谢谢你"
)


#: "不说了": at a question that cannot be refused, giving up the whole thing.
_STOP_TALKING = re.compile(
    r"^(?:我|那|那就|就|算了)*(?:不|不想|不要)(?:再)?(?:说|讲)(?:了|啦|咯|喇)[" + _END + r"]*$"
)


#: "有真人客服吗": asking whether there is a person is asking for one.
_HAS_HUMAN = re.compile(
    # "你们有没有人工客服", "请问你们这里有人工吗": the hotline asked about itself
    r"^(?:请问)?(?:你们|你|您们|您)?(?:这里|这边|那边|这儿)?(?:还)?(?:有|有没有)(?:个|一个)?(?:你们的?)?(?:人工|真人|活人)?"
    r"(?:客服|人工|真人|活人|工作人员|接线员|话务员|坐席)(?:服务)?(?:在)?(?:吗|么|没有|不)?"
    r"[" + _END + r"]*$"
)


#: Not wanting the machine ("不想跟机器聊", "唔想同机械人讲") or wanting to ask a
#: person ("我想问人"): asking for a person in other words.
_NOT_MACHINE = re.compile(
    r"^(?:我|我是)?(?:不想|不要|不愿意|不愿|懒得|别|不喜欢)(?:再)?(?:跟|和|同|与)?(?:你这个|你们这个|这个|你们的)?"
    r"(?:机器人?|机械人|人工智能|智能客服|自动回复|电脑|ai|AI|bot)"
    r"(?:聊天?|说话?|讲话?|对话|沟通|打交道|回复|答)?(?:了|啦)?[" + _END + r"]*$"
    r"|^(?:我|我就)?(?:想|要)(?:问|找)(?:个|一个)?(?:真|活)?人(?:问问?|说|讲|聊)?(?:一下|下)?"
    r"[" + _END + r"]*$"
)


def leaving(
    text: str, refusable: bool = True, gives_up: re.Pattern[str] | None = None
) -> Literal["cancel", "human"] | None:
    """The citizen abandons the form ("不投了，浪费时间", "算了算了") or asks for a
    person ("我想跟客服本人讲"), else None. The NLU's ``stop`` and
    ``request_human`` intents usually say so first; this catches what they miss.
    ``refusable``: the question takes a refusal, so "不用了" refuses it instead.
    ``gives_up``: a form's own way of abandoning it, matched against each
    clause ("唔登记喇" for the complaint form)."""
    said = joined_topic(english(text)) if refusable else english(text)
    parts = [_cantonese(part) for part in clauses(said) if not _FILLER.match(part)]
    if not parts:
        return None
    thanks = r"^(?:谢谢|多谢|感谢)(?:你|您|你们)?[" + _END + r"]*$"
    if (
        not refusable
        and any(_NO_NEED.match(part) for part in parts)
        and all(_NO_NEED.match(part) or re.match(thanks, part) for part in parts)
    ):
        return "cancel"  # "不用了，谢谢", "唔该 唔使喇"
    if any(
        _HUMAN.match(part) or _HAS_HUMAN.match(part) or _NOT_MACHINE.match(part) for part in parts
    ):
        return "human"
    if not refusable and any(_STOP_TALKING.match(part) for part in parts):
        return "cancel"  # "不说了，没用的" to what happened: giving up the complaint
    if any(_CANCEL_CLAUSE.match(part) for part in parts):
        return "cancel"
    if all(_BARE_CANCEL.match(part) for part in parts) and _BARE_CANCEL.match(parts[0]):
        return "cancel"
    if gives_up is not None and any(gives_up.match(part) for part in parts):
        return "cancel"
    return None


# --- "not A but B" ------------------------------------------------------------

#: Words a correction may open with: "哦对了", "不对不对", "哎呀", "不好意思".
LEAD = (
    r"(?:(?:不好意思|抱歉|对不起|sorry|谢谢|麻烦你?|哦对了|对了|哎呀|哎哟|哎|哦|噢|啊|呃|诶|喂|等等|等一下|等下|稍等|"
    r"不对不对|不对|错了错了)[啊呀哈哦噢喔]*[，,。!！\s]*)*"
)
#: Saying an answer was wrong: "说错了", "打错字了", "多打了一个数", "讲错咗".
MISTAKE = (
    r"(?:(?:说|写|打|输|填|搞|弄|讲|记|留|报|选|答)?错(?:字)?(?:了|咗)"
    # "刚刚打错字 是茶山": without 了 when a pause follows
    r"|(?:说|写|打|输|填|讲|记|留|报|选)错字?(?=[，,。\s])"
    r"|(?:说|写|打|输|填|讲|留|描述)[的得]?(?:不对|有误|不准确|不正确|不完整|不全)"
    # "地址说得不清楚": with 得 (without it, "说不清楚" is not knowing)
    r"|(?:说|写|讲|填|描述)[的得]不(?:清楚|具体|明白)"
    r"|(?:说|写|讲|填)漏了|漏(?:说|写|讲|填)了|漏了(?:说|写|讲|填)"
    r"|(?:多|少|漏)(?:打|输|写|填)了?(?:一个|一位|个|几个)?(?:数字|数|位|字)?"
    # "电话漏了一位", "少咗个数字"
    r"|(?:多|少|漏)(?:了|咗)(?:(?:一个|一位|个|几个|几)(?:数字|数|位|字)?|数字|数|位|字)"
    # "刚才那个我没说清楚，应该是…"
    r"|没(?:有)?(?:说|讲|写|填)(?:清楚|对|全)"
    # "刚刚输反了": two digits the wrong way round
    r"|(?:输|打|写|说|讲|填|弄|搞)(?:反|倒)了"
    # "更正一下，是…", "改一下 是…": announcing a correction
    r"|(?:更正|纠正|修正|订正|补充)(?:一下|下)?|改(?:一下|下)(?=[，,。\s]))"
)
_MISTAKE_LEAD = re.compile(
    r"^" + LEAD + r"(?:我)?(?:刚才|刚刚|之前|前面|上面|头先)?(?:我)?(?:那个|那句|这句|那条|个)?"
    r"(?:(?:上一个|上个|前一个|上一)(?:问题|题)?的?(?:回答|答案)?(?:我)?)?"
    # "刚才那个问题我没说清楚": the matter just described
    r"(?:(?:问题|事情|事)(?:我)?)?" + MISTAKE
    + r"[，,。\s]*"
)
_LEAD = re.compile(r"^" + LEAD)
_MISTAKE_TAIL = re.compile(
    r"[，,。\s]+(?:我)?(?:刚才|刚刚|之前|前面|上面|头先)?(?:我)?" + MISTAKE + r"[" + _END + r"]*$"
)
_MISTAKE_MID = re.compile(
    r"[，,。\s]+(?:我)?(?:刚才|刚刚|之前|前面)?(?:我)?" + MISTAKE + r"(?=[，,。\s])"
)
_NOT_BUT = re.compile(
    r"^(?:我要办的|我要说的|我说的|我想办的|要办的|应该|其实)?(?:不是|不在)(?:在)?(.{1,20}?)"
    r"(?:[，,、\s]*(?:而|应该|其实)?(?:是|在)"
    # "不是身份证，我要搞社保卡": after a pause, what is wanted instead
    r"|[，,、\s]+(?:我|我是)?(?:要|想)(?:办|搞|弄|补|换|申请|的是)?)(?:在)?(.+)$"
)
#: "是A，不是B" (the right one first): "是上周六 不是上周五", "我要办的是社保卡 不是身份证".
_IS_NOT = re.compile(
    r"^(?:我要办的|我要说的|我说的|我想办的|要办的|应该|其实|[^，,。\s不]{1,4}?)?(?:是|在)(.{1,30}?)[，,、\s]*"
    r"(?:而)?(?:不是|不在)(.{1,20})$"
)
#: "失业金不是，是医保": the wrong one first, said not to be it.
_WRONG_FIRST = re.compile(
    r"^([^，,。\s]{1,20}?)(?:不是|不对)[，,、\s]+(?:(?:而|应该|其实)?是(?:在)?(.+)"
    r"|([^，,。\s]+?)(?:才对|才是对的|先啱|先对))$"
)
_TRAILING_NOT = re.compile(
    r"[，,、\s]*(?:而)?(?:不是|并不是|不在).*$"
    # "昨天才对", "系麻涌先啱": the right one said to be right
    r"|(?<=.)(?:才对|才是对的|才是|就对了|先啱|先对)[" + _END + r"]*$"
)


def not_but(text: str) -> tuple[str, str] | None:
    """("A", "B") for "不是A，是B" and "是B，不是A" (also after "刚才说错了",
    "不对不对")."""
    rest = _MISTAKE_LEAD.sub("", text.strip(), count=1)
    rest = _LEAD.sub("", rest, count=1)
    rest = _MISTAKE_TAIL.sub("", rest)  # "是企石，不是石排，前面打错了"
    rest = _MISTAKE_MID.sub("，", rest)  # "不是长安镇 我讲错了 是凤岗镇"
    match = _NOT_BUT.match(rest)
    if match is not None:
        wrong = strip_answer(match.group(1))
        right = without_trailing_not(strip_answer(match.group(2)))  # "…昨天才对"
    else:
        match = _IS_NOT.match(rest)
        first = _WRONG_FIRST.match(rest)
        if match is not None:
            wrong, right = strip_answer(match.group(2)), strip_answer(match.group(1))
        elif first is not None and first.group(1) not in ("我", "这个", "那个", "这", "那"):
            wrong = strip_answer(first.group(1))
            right = strip_answer(first.group(2) or first.group(3))
        else:
            return None
    return (wrong, right) if wrong and right else None


#: "13800138000 不对不对 13800138001", "东城 哦不是 是莞城": an answer, a "no"
#: after a pause (or right after a number), and the answer meant.
_WITHIN = re.compile(
    r"^([^，,。\s].*?)(?:[，,。\s]+|(?<=\d))(?:哦|噢|啊|呃|诶|唉|哎呀|哎)?[，,\s]*"
    r"(?:(?:不对|错了|(?:说|讲|打|写|输|搞|弄|记)错了?|不是(?=[，,\s]*(?:是|应该))"
    r"|(?<=[哦噢啊呃诶唉哎呀])不是|(?<=\d[，,\s])不是(?=[，,\s]+\d))[了咗啊呀]?[，,\s]*)+"
    r"(?:应该|其实)?(?:是|为)?[：:\s]*(.+)$"
)


_TYPED_AS = re.compile(
    r"^(?:[^，,。\s]*?(?:是|为|：|:))?\s*([^，,。\s]{1,20}?)[，,。\s]+(?:我|我刚才|刚才|我刚刚)?"
    r"(?:打|写|说|输|填|讲|记|报)成(?:了)?([^，,。\s]{1,20}?)(?:了)?[" + _END + r"]*$"
)


def typed_as(text: str) -> tuple[str, str] | None:
    """(what was typed, what was meant) for "尾号是0002 我打成0001了"."""
    match = _TYPED_AS.match(mandarin(text.strip()))
    if match is None:
        return None
    return strip_answer(match.group(2)), strip_answer(match.group(1))


def corrected_within(text: str) -> tuple[str, str] | None:
    """(the answer first given, the one meant) when an answer corrects itself:
    "星期二 不对 星期三" -> ("星期二", "星期三"); None otherwise."""
    match = _WITHIN.match(mandarin(text.strip()))
    if match is None:
        return None
    first, meant = strip_answer(match.group(1)), strip_answer(match.group(2))
    if not first or not meant or _LEAD.fullmatch(first) or _FILLER.match(first):
        return None
    return first, meant


_INSTEAD = re.compile(r"^(?:其实|应该|实际上|正确的|正确|应|本来)?(?:是|为|：|:)\s*(.+)$")
#: What follows "说错了" that is no value: "我重新说", "等一下".
_NOT_A_VALUE = re.compile(r"^(?:我|你|再|重|等|稍|那|不好意思|对不起)")


def mistake_said(text: str) -> tuple[bool, str | None]:
    """(the message starts by saying an earlier answer was wrong, the right
    value if it follows): "不好意思，刚才打错字了，是路灯倒了" -> (True, "路灯倒了");
    "我刚才说错了" -> (True, None); an answer -> (False, None). Which answer was
    wrong is not said: the caller decides (the one just given)."""
    stripped = text.strip()
    lead = _MISTAKE_LEAD.match(stripped)
    if lead is None:
        return False, None
    rest = stripped[lead.end() :]
    instead = _INSTEAD.match(rest)
    if instead is not None:
        value = strip_answer(instead.group(1))
    elif rest and lead.group(0) != lead.group(0).rstrip("，,。 ") and not _NOT_A_VALUE.match(rest):
        value = strip_answer(rest)  # "电话说错了 13912345678"
    else:
        value = ""
    return True, without_trailing_not(value) or None


#: Saying no before the right value: "哦不对，是路灯不亮", "不是不是，应该是渗水".
DENIED = _DENIED = re.compile(
    r"^" + LEAD + r"(?:哦|噢|啊|呃|诶)?(?:不对|不是|错了|搞错了|弄错了)+"
    r"[了啊呀]?[，,。!！\s]*"
)


#: "我要说的是…", "我的意思是…": what comes before the right value.
_SAID_INSTEAD = re.compile(
    r"^(?:我要说的|我想说的|我说的|我要讲的|我讲的|我的意思|我要办的|我想办的)(?=是)"
)


def denied_then(text: str) -> str | None:
    """The value after a "no" that opens the message and an explicit "是":
    "哦不对，是路灯不亮" -> "路灯不亮"; None otherwise ("不是这个" says no value).
    Which answer it replaces is the caller's guess: nothing names it."""
    denied = _DENIED.match(text.strip())
    if denied is None:
        return None
    rest = _SAID_INSTEAD.sub("", text.strip()[denied.end() :], count=1)
    instead = _INSTEAD.match(rest)
    if instead is None:
        return None
    value = without_trailing_not(strip_answer(instead.group(1)))
    return value or None


def without_trailing_not(value: str) -> str:
    """ "虎门连升路，不是厚街" -> "虎门连升路"."""
    stripped = _TRAILING_NOT.sub("", value)
    return stripped or value


_PARTICLES = "啊呀吧哦嘛呢啦哈"
_PUNCT = "，,。.!！?？、；;~～… "
_TRAILING_THERE = re.compile(r"(?<=..)(?:那里|那边|那儿|这里|这边|这儿)$")


def as_written(text: str, value: str) -> str:
    """``value``, read from ``mandarin(text)``, in the citizen's own words:
    "刚才讲得不对 系水表爆咗" gives 水表爆了 to read and keeps 水表爆咗."""
    if value in text or len(text) > 200:
        return value
    for size in range(max(1, len(value) - 4), len(value) + 5):
        for start in range(len(text) - size + 1):
            if mandarin(text[start : start + size]) == value:
                return text[start : start + size]
    return value


def strip_answer(text: str) -> str:
    """An answer without punctuation, emoji and sentence particles around it
    (了 stays: "路灯坏了"; "东城 🙏" is 东城)."""
    text = _strip_symbols(text.strip().strip(_PUNCT))
    return _strip_symbols(text.rstrip(_PARTICLES).strip(_PUNCT))


def _is_symbol(ch: str) -> bool:
    """An emoji or a pictograph, or what joins and varies them."""
    return unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn") or ch in "\ufe0f\u200d"


def _strip_symbols(text: str) -> str:
    start, end = 0, len(text)
    while start < end and (_is_symbol(text[start]) or text[start] in _PUNCT):
        start += 1
    while end > start and (_is_symbol(text[end - 1]) or text[end - 1] in _PUNCT):
        end -= 1
    return text[start:end]


# --- the phone ----------------------------------------------------------------

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
_NEGATOR = (
    r"(?:不需要|不用|不要|无需|没必要|不必|不想|不打算|用不着|别|不是|并非|并不|没说|没有说|没|不|非)"
    r"(?:要|想|说)?"
)
_ANON_WORD = re.compile(r"匿名|保密|不具名|不署名")
_NEGATED_ANON = re.compile(
    _NEGATOR + r"(?:给我|帮我|替我)?(?:搞|弄|做|按|登记成|写成|登记为)?(?:匿名|保密)"
    # "匿名就不用了", "匿名倒不必", "匿名就算了" (but "还是匿名算了" chooses it)
    r"|(?:匿名|保密)(?:的话|这个)?(?:就|也|倒|倒是)?(?:不用|不要|不需要|不必|没必要|免了)"
    r"|(?:匿名|保密)(?:的话|这个)?(?:就|也|还是)算了"
    # "谁说我要匿名了", "我哪有说要匿名": said not to have been asked for
    r"|(?:谁|哪个|边个)(?:说|讲|叫)(?:过)?(?:我|我们)?(?:要|想)?(?:匿名|保密)"
    r"|(?:哪有|哪里有|什么时候|几时)(?:说|讲)(?:过)?(?:要|想)?(?:匿名|保密)"
)
_REFUSE_GIVE = re.compile(
    r"(?:不|别|不用|不要|不需要|不必|没必要|不想|不愿意?|不方便|不能|不肯|不打算|无法|不会|不可能)"
    r"(?:再|就)?(?:留|给|说|讲|告诉|提供|登记|填|写|透露|报|记)"
    r"|(?:就|还是|先)?不留|没有?(?:电话|手机)|怕.{0,6}(?:知道|报复|打击)"
    r"|不(?:想|愿意?|希望)(?:让|被|给)?.{0,6}知道"
    # "我不太想留", "电话没有"
    r"|不(?:太|大|怎么|是很)(?:想|愿意|方便)(?:留|给|说|告诉|提供|透露)?"
    r"|(?:电话|手机)(?:号码?)?(?:也|都)?没有"
    r"|(?:不用|不要|不需要|不必|没必要|免)(?:留)?(?:名字|姓名|称呼|电话|号码|联系方式)"
    r"|^(?:那就|那|就|也)?(?:不用|不要|不需要|不必|没必要|免了|算了不留|随便|无所谓)[了吧啦呀啊哦]*"
    r"(?:谢谢|多谢|感谢)?(?:你|您|你们)?[了吧啦呀啊哦]*$"
    # "不用叫我啥": no need to call one anything
    r"|(?:不用|不必|不需要|没必要|无需)(?:怎么)?(?:叫|喊)(?:我)?(?:啥|什么)?[了吧啦呀啊哦]*$"
    # "随便叫", "随便你怎么称呼都行"
    r"|^随便(?:你|你们)?(?:叫|喊|称呼|写|填|怎么叫|怎么称呼|怎么写)(?:都行|都可以|就行|就好)?[了吧啦呀啊哦]*$"
    # "(是)不方便": the reason is the refusal
    r"|^(?:是|就是|因为|实在|确实|真的)?(?:有点|有些)?不方便[" + _END + r"]*$"
    # "名字不方便", "电话有点不方便"
    r"|^(?:名字|姓名|称呼|电话|手机号?|号码)(?:就|也|还是)?(?:有点|有些)?不(?:太|大)?方便"
    # "你不用知道我是谁"
    r"|(?:不用|不必|不需要|没必要)(?:知道|问)"
    # "手机号就算了吧", "名字免了"
    r"|(?:电话|手机号?|号码|联系方式|名字|姓名|称呼|名)(?:的话|呢)?(?:就|还是|也|嘛)*"
    r"(?:算了|免了|不用了?|不要了|不必了?|不留了|没必要|不需要|免填|不用填|不填|免写|不写)"
    # "不要打电话给我", "别联系我", "不用回访"
    r"|(?:不|别|不用|不要|不需要|无需|不必)(?:给我|跟我)?(?:打电话|打给我|打过来|回电|回访|联系|打扰|骚扰)"
    r"|(?:电话|手机号?|号码|联系方式|名字|姓名|称呼)(?:你们|你)?(?:就|也|还是)?(?:别|不用|不要|不必)"
    r"(?:要|问|留|登记|记|写)"
    r"|(?:不希望|不想|不愿意?|不要|别)(?:你们|你|他们|别人|有人|人家|部门)?(?:再)?"
    r"(?:被)?(?:打(?:电话)?(?:给|过来)|打我|联系我|找我|回电|回访|打扰|骚扰)"
)
_DOUBLE_NEGATION = re.compile(r"(?:不是|也不是|并不是|并非|没有|没说)(?:说)?(?:不|没)")
_GIVE = re.compile(
    r"打(?:我|给我)(?:的)?(?:电话|手机)|给我打电话|(?:电话|手机)(?:联系|找|回访|通知)我|"
    r"联系我|回访我|回电|可以留|留(?:个|一下)?(?:电话|号码|手机)|记(?:一下|下)?(?:我的)?(?:电话|号码)|"
    r"(?:我的|我)(?:电话|手机|号码)(?:是|为|：|:)"
)


_COUNTRY = re.compile(r"(?:\+|00)?86[\s-]?(?=1[3-9]\d)")


#: Between the groups of a number said or typed in pieces ("0769-8888 6666").
_GROUP_GAP = re.compile(r"(?<=\d)(?:[\s\-‐‑–—－]|杠|横杠)+(?=\d)")  # 杠: a dash said


def find_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or a landline with its area code, digits only
    (also in groups: "0769-8888 6666", "138 1234 5678")."""
    digits = _COUNTRY.sub(" ", normalise_digits(unicodedata.normalize("NFKC", text)))
    for candidate in (digits, _GROUP_GAP.sub("", digits)):
        mobile = _MOBILE.search(candidate)
        if mobile:
            return "".join(mobile.groups())
        landline = _LANDLINE.search(candidate)
        if landline:
            return "".join(landline.groups())
    return None


#: "匿名的话能查进度吗": a question about a choice, not the choice.
_CONDITIONAL_QUESTION = re.compile(
    r"(?:的话|如果|要是).*(?:吗|么|呢|不)$"
    # "匿名可以查进度吗", "匿名还会处理吗": what anonymity allows, asked (but
    # "匿名可以吗" asks for it)
    r"|(?:匿名|保密)(?:的话|之后|以后|了)?(?:还|也)?(?:可以|能|会|能不能|可不可以|有没有|有)"
    r"[\u4e00-\u9fff]{2,}(?:吗|么|嘛|不|没有)$"
)


def _phone_stance(clause: str) -> Kind | None:
    """``refuse`` (anonymous), ``give`` (not anonymous) or None for one clause."""
    if _CONDITIONAL_QUESTION.search(clause):
        return None
    if _DOUBLE_NEGATION.search(clause) and _REFUSE_GIVE.search(clause):
        return "give"  # "不是不愿意留", "也不是不能留"
    if _ANON_WORD.search(clause):
        return "give" if _NEGATED_ANON.search(clause) else "refuse"
    if _REFUSE_GIVE.search(clause):
        return "refuse"
    if _GIVE.search(clause):
        return "give"
    return None


#: The answer named as a topic before what is said of it: "电话嘛 算了吧".
_TOPIC = re.compile(
    r"^((?:我的)?(?:电话|号码|手机号?|名字|姓名|称呼|联系方式)(?:嘛|的话|呢|啊|呀))[，,\s]+"
)


def joined_topic(text: str) -> str:
    """"电话嘛 算了吧" as one clause ("电话嘛算了吧"): what is said of the answer
    named first ("算了") is about it, not about the whole form."""
    return _TOPIC.sub(r"\1", text.strip(), count=1)


def read_phone(text: str) -> Reading:
    """A phone answer: ``value`` (the number), ``refuse`` (anonymous), ``give``
    (not anonymous, no number yet), ``empty`` (no usable number)."""
    phone = find_phone(text)
    if phone:
        return Reading("value", phone)
    stance: Kind | None = None
    for clause in clauses(joined_topic(mandarin(text))):
        stance = _phone_stance(clause) or stance
    if stance is not None:
        return Reading(stance)
    if says_unknown(text):
        return Reading("refuse")  # "不知道" / "不想说" for one's own phone: not leaving one
    return Reading("empty")


def tail_replaced(earlier: str, said: str, longest: int) -> str | None:
    """An earlier number with its end replaced by the few digits said to
    correct it ("最后几位是000321" for 20261127-000123: 20261127-000321);
    None when ``said`` holds no digits or more than ``longest``."""
    digits = digits_in(said)
    old = digits_in(earlier)
    if not digits or len(digits) > longest or len(digits) >= len(old):
        return None
    new, left = list(earlier), len(digits)
    for index in range(len(new) - 1, -1, -1):
        if left and new[index].isdigit():
            left -= 1
            new[index] = digits[left]
    return "".join(new)


def digits_in(text: str) -> str:
    return re.sub(r"\D", "", normalise_digits(text))


# --- the name -----------------------------------------------------------------

_TITLE = (
    r"(?:先生|女士|小姐|太太|师傅|阿姨|叔叔|大叔|大哥|大姐|老师|老板|伯|叔|姐|哥|姨|生|婆|伯伯)"
)
_NAME_SAID = re.compile(
    r"(?:叫我|喊我|称呼我|我叫|我是|名字是|名字叫|姓名是|姓名叫|我的名字是|登记为|登记成|"
    r"登记上|写上|记上|登记|写|^叫)"
    r"(?:做|作|个|一个)?([\u4e00-\u9fa5A-Za-z]{1,8}?)(?:就行|就好|就可以|就得|即可|好了|便可)?"
    r"[" + _END + r"]*$"
)
_COMPOUND_SURNAME = (
    "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|夏侯|长孙|宇文|司徒|端木|轩辕|澹台|南宫"
)
_SURNAME = re.compile(
    r"(?:我|本人)?姓(?!名)(" + _COMPOUND_SURNAME + r"|[\u4e00-\u9fa5])(?:[\u4e00-\u9fa5]{0,2}"
    + _TITLE
    + ")?"
)
_TITLED = re.compile(
    r"^(?:老|小|阿)?[\u4e00-\u9fa5]{1,3}" + _TITLE + "$|^(?:老|小|阿)[\u4e00-\u9fa5]$"
)
#: A word for anyone ("叫我市民就行"): no name given.
_ANYONE = r"^(?:市民|群众|网友|路人|老百姓|居民|业主|热心市民|某某|无名氏|街坊|街坊邻居|邻居|坊众)$"
_NOT_A_NAME = re.compile(
    r"名字|姓名|真名|实名|全名|称呼|登记|电话|号码|匿名|投诉|我们|你们|他们|什么|怎么|为什么|吗|呢"
    # "别写我名", "别登记了", "叫我不留名": no name starts with 我, 不 or a particle
    r"|^[我不" + _END + r"]|谢谢|多谢|麻烦|辛苦|可以|好的|知道|没有|随便|算了|就行|就好|行吧|谁|啥"
    # "叫我市民就行": a word for anyone is no name
    r"|" + _ANYONE
)


#: "叫我名字阿明": the word for a name between the verb and the name.
_NAME_WORD = re.compile(
    r"(叫我|我叫|称呼我|喊我)(?:的)?(?:名字|全名|真名|大名|本名|小名)(?:就)?(?:是|叫)?(?=.)"
)
#: "免贵姓张", also typed with its homophone: "免贵性张".
_HUMBLE_SURNAME = re.compile(r"^(?:免贵|敝|鄙)(?:姓|性(?=[\u4e00-\u9fa5]{1,2}$))")
_NEGATED_START = re.compile(r"^(?:我|那|就|还是|名字|姓名)?(?:不|别|没|无需|免)")


def _name_stance(clause: str) -> Kind | None:
    if _DOUBLE_NEGATION.search(clause):
        return None  # "名字也不是不能留"
    if _ANON_WORD.search(clause):
        return None if _NEGATED_ANON.search(clause) else "refuse"
    if _REFUSE_GIVE.search(clause) or _WONT.search(clause):
        return "refuse"
    return None


#: A name with an English title: "Mr Chan", "Miss Wong".
_ENGLISH_NAME = re.compile(
    r"^(?:mr|mrs|ms|miss|madam|dr)\.?\s*[A-Za-z]{2,12}$|^[A-Za-z]{2,12}\s+(?:sir|先生|小姐|女士|生)$",
    re.IGNORECASE,
)
#: A space between Chinese and a Latin word ("叫我 Amy 就好"): typed, not a pause.
_LATIN_SPACE = re.compile(
    r"(?<=[\u4e00-\u9fff])\s+(?=[A-Za-z])|(?<=[A-Za-z])\s+(?=[\u4e00-\u9fff])"
)


def read_name(text: str) -> Reading:
    """How to address the citizen: ``value``, ``refuse`` or ``empty``."""
    if _ENGLISH_NAME.match(text.strip()):
        return Reading("value", text.strip())
    text = joined_topic(_LATIN_SPACE.sub("", mandarin(text)))
    parts = [part for part in clauses(text) if not _FILLER.match(part)]
    if not parts or is_bare_negation(text):
        return Reading("empty")
    name: str | None = None
    bare: str | None = None
    refused = False
    for part in parts:
        negated = bool(_NEGATED_START.match(part))
        if negated and _name_stance(part) == "refuse":
            refused = True  # "我不要登记名", "别写我名": a refusal, whatever follows the verb
            continue
        part = re.sub(r"(?<=..)(?:就可以|就行|就好|即可|便可|就得)[" + _END + r"]*$", "", part)
        # "叫我阿杰得啦" (Cantonese: will do): what follows a name
        part = re.sub(r"(?<=..)(?:得啦|得喇|得嘞|得了)$", "", part)
        part = _NAME_WORD.sub(r"\1", part)  # "叫我名字阿明就行": 叫我阿明
        said = _NAME_SAID.search(part)
        surname = _SURNAME.match(_HUMBLE_SURNAME.sub("姓", part))
        if said and re.match(_ANYONE, said.group(1)):
            refused = True  # "称呼就写市民吧"
        elif said and not _NOT_A_NAME.search(said.group(1)):
            name = said.group(1)
        elif _TITLED.match(titled := part.rstrip("吧啊呀啦哦嘛呢")) and not negated:
            name = titled  # "李小姐", "黄女士吧" (but "不用叫先生" names no one)
        elif surname and len(part) <= 6:
            name = surname.group(0).removeprefix("我").removeprefix("本人").removeprefix("姓")
            if not _TITLED.match(name):
                name = surname.group(1)
        elif _name_stance(part) == "refuse":
            refused = True
        elif re.fullmatch(r"[\u4e00-\u9fa5]{2,4}", part) and not _NOT_A_NAME.search(part):
            bare = bare or part  # "名字登记上吧，吴敏": a bare name in its own clause
    if name:
        return Reading("value", name)
    if refused:
        return Reading("refuse")
    if bare and len(parts) > 1:
        return Reading("value", bare)
    if says_unknown(text):
        return Reading("refuse")
    whole = strip_answer(text)
    if len(whole) <= 6 and not _NOT_A_NAME.search(whole) and not _DOUBLE_NEGATION.search(whole):
        return Reading("value", whole)
    return Reading("empty")


# --- free text: what, where, when ---------------------------------------------

#: Everywhere is no place to send anyone to ("到处都有", "哪里都是").
_EVERYWHERE = re.compile(r"^(?:到处|处处|哪里都|遍地|各个地方|满大街)")
#: No one place: "不固定", "地点不一定".
_UNFIXED = re.compile(
    r"^(?:地点|地方|位置|地址)?(?:也|都)?(?:不固定|不一定|不定|没有?固定的?(?:地点|地方|位置)?|没准)"
    r"[" + _END + r"]*$"
)
#: A clause saying there is no place at all ("没有地点", "没具体地址", "无地点").
_NO_PLACE = re.compile(
    r"(?:没有?|无)(?:什么|啥)?(?:具体|固定|确切|实际)?的?(?:地点|地址|位置|地方)"
)
#: What a place names: a town, a road, a building, a spot ("南城", "鸿福路", "门口").
_PLACE_MARK = re.compile(
    r"镇|街|路(?!过|人)|道|村|区|城|港|巷|坊|苑|庭|府|园|场|楼|栋|号|站|厂|桥|河|湖|山|店|铺|"
    r"花园|广场|市场|商场|大厦|门口|附近|旁边|对面|学校|医院|中心|酒店|小区|社区|隔壁|楼下|楼上|家"
)
_WHERE_LEAD = re.compile(
    r"^(?:就是|就|大概|应该|大约|差不多|好像|可能|反正|其实)?(?:是在|是|在|位于|喺)(?=..)"
    r"|^(?:地址|地点|位置)(?:是|在|：|:)"
)


def read_free(text: str, kind: Literal["what", "where", "when"] = "where") -> Reading:
    """An answer in words: ``value``, ``unknown`` or ``empty`` (a filler, a bare
    "不是"). Leading "don't know" clauses are dropped when something follows
    ("记不太清，大概上个礼拜五下午" -> "大概上个礼拜五下午")."""
    stripped = text.strip()
    if is_filler(stripped) or is_bare_negation(stripped) or _ASKS_HOW.match(mandarin(stripped)):
        return Reading("empty")
    if says_unknown(stripped):
        return Reading("unknown")
    corrected = not_but(stripped)
    if corrected is not None:
        return Reading("value", corrected[1])
    denied = denied_then(stripped)  # "不对，是东城"
    if denied is not None:
        stripped = denied
    # drop leading fillers and "don't know" clauses, keep the rest as written
    rest = stripped
    dropped: list[str] = []
    for part in clauses(stripped):
        if (
            _FILLER.match(part)
            or _says_unknown(part)
            or _QUESTION.search(part)
            or _BARE_CANCEL.match(mandarin(part))
        ):
            dropped.append(part)
            index = rest.find(part)
            rest = rest[index + len(part) :].lstrip("，,。.!！?？;；、…~～ \t")
            continue
        break
    # and trailing ones: "大概是上周吧，具体哪天忘了" -> "大概是上周吧"; at the
    # place or the time also a question asked after the answer: "南城鸿福路 要多久才处理"
    for part in reversed(parts := clauses(rest)):
        asks = kind != "what" and len(parts) > 1 and part != parts[0] and asks_back(part)
        if _FILLER.match(part) or _says_unknown(part) or _QUESTION.search(part) or asks:
            dropped.append(part)
            index = rest.rfind(part)
            rest = rest[:index].rstrip("，,。.!！?？;；、…~～ \t")
            continue
        break
    value = strip_answer(rest) or strip_answer(stripped)
    # "网上买的，没有地点": no place named, and none said to be there
    said_none = any(_NO_PLACE.search(mandarin(p)) or _NOTHING.match(mandarin(p)) for p in dropped)
    if kind == "where" and _EVERYWHERE.match(value):
        return Reading("unknown")  # "到处都有": no one place
    if kind == "where" and all(
        _EVERYWHERE.match(p) or _UNFIXED.match(p) for p in clauses(mandarin(value))
    ):
        return Reading("unknown")  # "不固定，到处都有"
    if kind == "where" and said_none:
        if not _PLACE_MARK.search(value):
            return Reading("unknown")  # "网上买的，没有地点": there is no place
    # "我是路过的，不知道是哪里": not knowing, and the rest names no place (no time)
    said_unknown = any(_says_unknown(p) for p in dropped)
    if said_unknown and kind == "where" and not names_place(value):
        return Reading("unknown")
    if said_unknown and kind == "where" and _ONLY_NOT.match(mandarin(value)):
        return Reading("unknown")  # "在哪我讲唔清，反正唔系市区": only where it is not
    if kind in ("where", "when"):
        parts = clauses(value)
        if len(parts) > 1 and _NOT_ONLY.match(mandarin(parts[0])):
            value = strip_answer(value[value.find(parts[1]) :])  # "不是一次两次了 几乎天天"
    if said_unknown and kind == "when" and not _TIME_MARK.search(mandarin(value)):
        return Reading("unknown")
    if kind == "where":
        value = _TRAILING_THERE.sub("", _WHERE_LEAD.sub("", value, count=1) or value)
        named = _SPOT_NAMED.match(value)
        if named is not None and names_place(named.group(1)):
            value = strip_answer(named.group(1))  # "我家楼下 就是常平御景花园"
    return Reading("value", value)


#: A spot near the citizen ("我家楼下", "我们小区") and then its name: the
#: name is the place ("我家楼下 就是常平御景花园" -> 常平御景花园).
_SPOT_NAMED = re.compile(
    r"^(?:在|就在)?(?:我|我们|咱|咱们)(?:家|住的?地方|住处|村|小区|公司|单位|厂|宿舍)?的?"
    r"(?:楼下|楼上|附近|旁边|门口|对面|隔壁|这边|那边|这里|那里|里面|后面|前面)?"
    r"[，,\s]*(?:也就是|就是|即|叫|叫做|在)(?:在)?[：:\s]*(.{2,})$"
)


#: Saying only where it is not: "反正不是市区".
_ONLY_NOT = re.compile(r"^(?:反正|总之|但是?|肯定|应该|起码|至少|只知道)?(?:不是|不在)[^，,。\s]+$")
#: A clause saying what it is not, before what it is: "不是一次两次了", "不止一次".
_NOT_ONLY = re.compile(r"^(?:也|都|已经)?(?:不是|不止|不只)(?![" + _END + r"])[^，,。\s是]{1,8}$")


def names_place(text: str) -> bool:
    """True when ``text`` names a place: a word of place ("路", "小区", "门口")
    or a town of data/towns.yml ("万江", "虎门")."""
    if _PLACE_MARK.search(mandarin(text)):
        return True
    try:
        return load_towns().find(location=text) is not None
    except TownsError:
        return False


#: What a time names: a day, an hour, a span or how often ("前天下午", "一直", "每晚").
_TIME_MARK = re.compile(
    r"[天日号点晚早夜周月年时]|上午|下午|中午|凌晨|半夜|星期|礼拜|最近|近来|一直|经常|老是|总是|"
    r"每|前|刚才|刚刚|今|昨|去年|小时|分钟|时候|以来|开始|之后|以后|平时|整天|好久|"
    # how often: "断断续续", "时不时", "隔三差五"
    r"断断续续|时不时|时有时无|偶尔|隔三差五|三天两头|反反复复|有时"
)


def names_time(text: str) -> bool:
    """True when ``text`` names a time ("前天下午", "一直", "每晚")."""
    return bool(_TIME_MARK.search(mandarin(text)))


def plainly_answers(text: str, kind: Literal["what", "where", "when"]) -> bool:
    """True when ``text`` is plainly an answer to the question ``kind`` (or says
    not knowing it): a place names a place ("虎门太沙路", "就我家楼下"), a time a
    time ("前天下午"), what happened says something ("楼上装修天天电钻"). For a
    message the NLU took for leaving, where a word alone ("没意思") is no answer."""
    reading = read_free(text, kind)
    if reading.kind == "unknown":
        return True
    if reading.kind != "value" or not reading.value:
        return False
    if kind == "where":
        return names_place(reading.value)
    if kind == "when":
        return bool(_TIME_MARK.search(mandarin(reading.value)))
    content = re.sub(r"[\W_]+", "", reading.value)
    return len(content) >= 4 and not is_filler(reading.value)


# --- online or offline --------------------------------------------------------

_ONLINE = (
    # "上网办" (but "上网查了一下" chooses nothing)
    r"(?<![A-Za-z])(?:online|on-line|internet|website)(?![A-Za-z])|"
    r"网上|线上|网办|上网(?=办|申请|弄|搞|操作|提交|填)|手机|小程序|app|APP|在线|网站|粤省事|莞家|不用跑|网络|电脑|在家|不出门|"
    r"不(?:想|愿意|要|必|用|需要)(?:去)?(?:跑|出门|排队)|懒得(?:跑|去|出门|排队)|微信|公众号|支付宝|12123"
    # "冇时间去排队": no time to go
    r"|没有?(?:时间|空)(?:(?:去|跑|过去)(?:排队|跑|窗口|现场|大厅)?|排队|跑)"
)
_OFFLINE = (
    r"线下|窗口|现场|大厅|柜台|服务中心|去办|跑一趟|本人去|当面|办事处|"
    r"(?:去|走)一趟|亲自(?:去|跑|到|过去)|"
    # "我自己过去", "自己跑去办"
    r"自己(?:过去|跑过去|跑去|去办|跑一趟|去一趟)|"
    r"(?<![A-Za-z])offline(?![A-Za-z])|"
    # "唔识上网" (不会上网): cannot use the internet
    r"(?:不会|不懂|不识|不太会|不大会|不怎么会|没法|没办法|不能|不方便)上网|"
    # "去交警大队", "去派出所", "到出入境办"
    r"(?:去|到)(?!网|线上|手机|电脑|微信|小程序)[\u4e00-\u9fff]{0,6}(?:大队|所|局|厅|中心|站|办)"
)
_MODE_WORD = re.compile(_ONLINE + "|" + _OFFLINE, re.IGNORECASE)
_MODE_NEG = (
    r"(?:不要|不想|不用|不在|不去|不会|弄不|搞不|用不|懒得|别|(?<!是)不是|并非|不)"
    r"(?:请假|专门|特意|特地|再|还要|又要)?(?:用|在|去|上|跑|到|走)?(?:的)?"
)


def read_mode(text: str) -> str | None:
    """'online' or 'offline' when the answer chooses one, negations read:
    "不要网上的" is offline, "我还是去窗口吧，网上弄不明白" is offline."""
    votes = {"online": 0, "offline": 0}
    said = clauses(mandarin(text))
    # "必须要去现场吗，我想网上弄": a question back chooses nothing when a clause does
    # "网上办会不会很麻烦？那还是去现场吧": the question asked chooses nothing either
    told = [clause for clause in said if not _QUESTION.search(clause) and not asks_back(clause)]
    for clause in told if told and any(_MODE_WORD.search(c) for c in told) else said:
        for mode, words, other in (
            ("online", _ONLINE, "offline"),
            ("offline", _OFFLINE, "online"),
        ):
            for match in re.finditer(words, clause, re.IGNORECASE):
                before = clause[: match.start()]
                after = clause[match.end() :]
                negated = re.search(_MODE_NEG + "$", before) or re.match(
                    r"^(?:的|那个|那边|上面)?(?:上)?(?:我)?(?:试过|试了|用过|弄过|搞过)?(?:了)?"
                    r"(?:也|都|还是)?(?:弄|搞|办|操作|用)?"
                    r"(?:不明白|不会|不懂|不了|不行|不好|不来|不成|不清楚|太麻烦|麻烦|不方便|不熟|不习惯|搞不定|不掂|不定"
                    # "窗口人太多", "现场太远"
                    r"|人(?:太|很|好|特别)?多|排队(?:太|很|好)?(?:久|长)|(?:太|好|很)(?:远|慢)"
                    # "线上的不要", "网上的就算了"
                    r"|(?:就)?(?:不要|不用|不去|算了|算啦|算咯|免了|拉倒)[了吧啦]*(?=[，,\s]|$))",
                    after,
                )
                votes[other if negated else mode] += 1
    if votes["online"] == votes["offline"]:
        return None
    return "online" if votes["online"] > votes["offline"] else "offline"
