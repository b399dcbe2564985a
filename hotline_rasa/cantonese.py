"""Written Cantonese to Mandarin, word by word, before a classifier reads a message.

Dongguan's citizens write Cantonese as often as Mandarin ("点样睇自己社保交咗
几多个月", "户口簿唔见咗 去边度补"), while the catalog, the services and nearly
all training examples are Mandarin. Every word that differs is a feature the
classifiers never met, so a Cantonese question reaches the FAQ retriever and
the gate as a sentence half made of unknown words: on the blind development
set eval/citizen_dev3, six of the ten FAQ questions declined were Cantonese,
with the FAQ retriever at 0.06-0.3 (docs/experiments/2026-12-07-cantonese.md).

``to_mandarin`` rewrites the Cantonese words that have one Mandarin meaning
(冇 → 没有, 点样 → 怎样, 喺 → 在, 睇 → 看, 揾 → 找, 咗 → 了...). A word that is
also common Mandarin is left alone or rewritten only where it cannot be
Mandarin: 系 only after a subject or at the start of a phrase (我系, 都系; not
系统, 关系, 佛系), 仲 never in 仲裁 (labour arbitration), 人工 never (转人工 is
a request for a person), 紧 never (紧急). Mandarin text comes back unchanged
(hotline_rasa/tests/test_cantonese.py).

Where it is applied: ``hotline_gate.normalise``, which every scikit-learn
component (the gate, the FAQ and service retrievers, the complaint arbiter, the
safety net's detector) applies to its training texts and to each message.
DIET's tokens are not rewritten: tried, the retrained DIET answered more FAQ
questions but read 18 more service requests of the tuning sets as FAQ
questions, with 12 more errors in all than this (docs/experiments/
2026-12-07-cantonese.md). The message's text itself is not changed: the parse
result, the tracker and the danger words (data/danger_words.yml, which hold
Cantonese forms) see what the citizen wrote.
"""

from __future__ import annotations

import re

#: Cantonese words and their Mandarin meaning. Only words that are not
#: Mandarin themselves.
_WORDS: tuple[tuple[str, str], ...] = (
    # questions
    ("使唔使", "需不需要"),
    ("可唔可以", "可不可以"),
    ("系唔系", "是不是"),
    ("得唔得", "行不行"),
    ("识唔识", "会不会"),
    ("有冇", "有没有"),
    ("系咪", "是不是"),
    ("点样", "怎样"),
    ("点知", "怎么知道"),
    ("点计", "怎么算"),
    ("点算", "怎么办"),
    ("点解", "为什么"),
    ("点办", "怎么办"),
    ("点搞", "怎么弄"),
    ("点定", "怎么定"),
    ("点查", "怎么查"),
    ("点申请", "怎么申请"),
    ("点处理", "怎么处理"),
    ("几多钱", "多少钱"),
    ("几钱", "多少钱"),
    ("几多", "多少"),
    ("几耐", "多久"),
    ("乜嘢", "什么"),
    ("咩嘢", "什么"),
    ("边度", "哪里"),
    ("边处", "哪里"),
    ("边个", "哪个"),
    ("边间", "哪间"),
    ("边位", "哪位"),
    # thanks
    ("唔该晒", "谢谢"),
    ("多谢晒", "谢谢"),
    ("唔该", "谢谢"),
    # negation
    ("唔系", "不是"),
    ("唔使", "不用"),
    ("唔得", "不行"),
    ("唔知", "不知道"),
    ("唔好", "不要"),
    ("冇咗", "没了"),
    ("冇错", "没错"),
    ("冇", "没有"),
    ("唔", "不"),
    # people
    ("佢哋", "他们"),
    ("我哋", "我们"),
    ("你哋", "你们"),
    ("佢", "他"),
    ("哋", "们"),
    ("老细", "老板"),
    ("差佬", "警察"),
    # everyday words
    ("喺度", "在这里"),
    ("呢度", "这里"),
    ("呢个", "这个"),
    ("呢啲", "这些"),
    ("嗰个", "那个"),
    ("嗰度", "那里"),
    ("嗰", "那"),
    ("成日", "经常"),
    ("落雨", "下雨"),
    ("屋企", "家里"),
    ("而家", "现在"),
    ("琴日", "昨天"),
    ("听日", "明天"),
    ("啱啱", "刚刚"),
    ("啱嚟", "刚来"),
    ("揸车证", "驾驶证"),
    ("揸车", "开车"),
    ("揸", "开"),
    ("架车", "辆车"),
    ("白车", "救护车"),
    ("出粮", "发工资"),
    ("搞掂", "搞定"),
    ("执到", "捡到"),
    ("执笠", "倒闭"),
    ("嘢", "东西"),
    ("啲", "些"),
    # verbs
    ("揾", "找"),
    ("睇", "看"),
    ("俾", "给"),
    ("畀", "给"),
    ("攞", "拿"),
    ("嚟", "来"),
    ("喺", "在"),
    # particles and aspect
    ("咗", "了"),
    ("嘅", "的"),
    ("咁耐", "这么久"),
    ("咁", "这么"),
    ("噉", "这样"),
    ("咩", "什么"),
)

#: 系 is Cantonese 是 only after a subject or an adverb (我系, 佢系, 都系,
#: 真系, 即系) or at the start of a phrase; elsewhere it is Mandarin 系
#: (系统, 关系, 联系, 佛系, 中文系).
_XI = re.compile(r"(?:(?<=[我你他她佢都就真即又只也亦仲还个定])|(?<![\w]))[系係](?![统列数])")
#: 仲 is Cantonese 还 except in 仲裁 (arbitration) and 仲介.
_ZHONG = re.compile(r"仲(?![裁介])")
_MEANING = dict(_WORDS)
#: the longest word first wherever two start alike (冇咗 before 冇)
_PATTERN = re.compile("|".join(re.escape(word) for word in sorted(_MEANING, key=len, reverse=True)))


def to_mandarin(text: str) -> str:
    """``text`` with its Cantonese words in Mandarin; Mandarin is unchanged."""
    if not text:
        return text
    text = _PATTERN.sub(lambda match: _MEANING[match.group(0)], text)
    text = _XI.sub("是", text)
    return _ZHONG.sub("还", text)
