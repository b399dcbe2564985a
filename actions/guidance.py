"""Service guidance (业务办理): which service, which way, answered from the
service catalog in data/knowledge/services.yml."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._forms import CitizenFormValidation
from actions._runtime import latest_text, record_event, warn_if_danger
from actions.answers import (
    clauses,
    is_bare_negation,
    is_filler,
    leaving,
    mandarin,
    not_but,
    read_initials,
    read_mode,
    says_unknown,
)
from actions.online import online_way_given, outcome_buttons
from actions.thresholds import MAX_OFF_TOPIC_FOR_OFFER
from bot.knowledge import (
    Service,
    load_services,
    match_service,
    match_service_loosely,
    service_by_id,
)

_NOT_THIS = re.compile(
    r"不是这个|不是这项|不是这件|不是这|搞错了|弄错了|理解错了|不对|(?:选|点|说|写|打|填)错了?"
)
#: Saying which service was meant: "我想办的其实是居住证", "我要办的是户口迁入".
_ACTUALLY = re.compile(
    r"(?:(?:我想办的|我要办的|想办的|要办的|我要的|我想要的)(?:其实|实际上|本来)?是"
    r"|^(?:其实|实际上|本来)(?:我)?(?:想|要)?(?:办的)?是)\s*([^，,。\s]{2,12})[了啊呀吧哦嘛呢]*$"
)
#: The right one named after the wrong one: "社保卡选错了，我要的是医保" -> 医保.
_RIGHT_ONE = re.compile(
    r"(?:我要的是|我要办的是|要办的是|我想办的是|我要办|我要|应该是|其实是|而是|是)\s*([^，,。\s]{2,12})"
    r"[了啊呀吧哦嘛呢]*$"
)


#: A "no" anywhere in an answer to the way: "唔系", "不是", "搞错", "选错".
_SAYS_NO = re.compile(
    r"(?<![是系])不是(?!不)|不对|(?:搞|弄|选|点|说|写|打|填|讲|理解|听)错|错了|错啦|错咗"
)  # "是不是", "错过" ask or tell, they do not say no


#: The parse key hotline_rasa/service_retriever.py writes on every message:
#: {"service": id or None, "confidence": c, "off_topic": share, "sure": c >= its
#: threshold, "used"} (and "rescued_from" when a declined message became a request).
#: (The actions cannot import Rasa code; they read the key on latest_message.)
RETRIEVER_KEY = "service_retriever"


def _sure_guess(latest: dict[str, Any]) -> tuple[Service, dict[str, Any]] | None:
    """The service the retriever is sure a parse is about, with its key; None
    when it guessed none, is unsure, or the catalog no longer has it."""
    guess = latest.get(RETRIEVER_KEY)
    if not isinstance(guess, dict) or not guess.get("sure") or not guess.get("service"):
        return None
    service = service_by_id(str(guess["service"]))
    return (service, guess) if service is not None else None


def retriever_guess(tracker: Tracker, text: str) -> Service | None:
    """The service the model's service retriever is sure ``text`` asks for in
    other words, when ``text`` is the latest message (it guessed on that one);
    None otherwise. The last resort after every matcher: the next question
    names the service understood, with "不是这个"."""
    latest = tracker.latest_message or {}
    if str(latest.get("text") or "").strip() != text.strip():
        return None
    sure = _sure_guess(latest)
    return sure[0] if sure else None


def service_offer(tracker: Tracker) -> dict[str, str] | None:
    """A button to the guide of the service the model's service retriever is
    sure the latest message is about ("辞职了 单位帮我存的买房的钱能全部拿出来吗"
    answered from the FAQ, with 办事指南：住房公积金提取 as a next step), or None:
    no guess, unsure, the message more likely no hotline matter, or a service
    the catalog no longer has."""
    sure = _sure_guess(tracker.latest_message or {})
    if sure is None or float(sure[1].get("off_topic") or 0.0) >= MAX_OFF_TOPIC_FOR_OFFER:
        return None
    service = sure[0]
    return {
        "title": f"办事指南：{service.name}"[:20],
        "payload": f'/request_service_guide{{"service":"{service.id}"}}',
    }


def named_instead(text: str, current: str) -> Service | None:
    """The one service other than ``current`` a clause of an answer names
    when the answer also says "no" ("我说的是电 不是水 电表过户"); None when it
    names none, two, or says no "no"."""
    plain = mandarin(text)
    if not _SAYS_NO.search(plain):
        return None
    found = {
        service.id: service
        for clause in clauses(plain)
        if (service := match_service(clause)) is not None and service.id != current
    }
    return next(iter(found.values())) if len(found) == 1 else None


#: Either way will do: "随便", "都行" (alone, asked again: the citizen may
#: still choose) and the choice left to the assistant: "你看着办", "听你的".
_ANY_WAY = re.compile(
    r"^(?:随便|随意|都行|都可以|都得|都好|无所谓|哪个都行|哪种都行|哪样都行|怎样都行|怎么都行)"
    r"(?:吧|啦|了|啊|呀|喇|咯)*$"
)
_LEFT_TO_US = re.compile(
    r"^(?:(?:你|你们)(?:看着办|来定|定|决定|安排|说了算|帮我选|帮我定|推荐|建议)|听你的?|看你)"
    r"(?:吧|啦|了|啊|呀|喇|咯)*$"
)


def any_way(text: str) -> bool:
    """The citizen leaves the way to the assistant ("随便 你看着办", "你定吧")."""
    # "不清楚 你推荐吧": not knowing, and leaving it to the assistant
    parts = [part for part in clauses(mandarin(text)) if not is_filler(part)]
    parts = [part for part in parts if not says_unknown(part)] or parts
    return (
        bool(parts)
        and all(_ANY_WAY.match(part) or _LEFT_TO_US.match(part) for part in parts)
        and any(_LEFT_TO_US.match(part) for part in parts)
    )


def mode_from_text(text: str) -> str | None:
    """'online' / 'offline' when the text says which way, else None
    (negations read: "不要网上的" is offline; actions/answers.py)."""
    return read_mode(text)


#: At the service question a name written loosely is still a name: most of the
#: characters of a service's name or alias, in order ("去香港那个通行证" has 4 of
#: 港澳通行证's 5, "提公积晶" 3 of 提公积金's 4). Only there, where the citizen is
#: naming a service, and the next question says which service was understood,
#: with "不是这个" to correct it.
_KEY_NOISE = re.compile(r"[\W_]+")
#: Names and aliases this short are matched one character off, never looser.
SHORT_ALIAS = 3
#: A longer name's characters in another order count in a short answer only
#: (at most this many characters more than the name).
SHORTLY = 4


def match_short_alias(text: str, shortest: int = SHORT_ALIAS) -> Service | None:
    """The one service of :func:`short_alias_candidates`, or None (none, or two)."""
    found = short_alias_candidates(text, shortest)
    return found[0] if len(found) == 1 else None


def short_alias_candidates(text: str, shortest: int = SHORT_ALIAS) -> list[Service]:
    """The services a three-character name or alias names when written with
    one character wrong ("居住整", "身份正丢了": pinyin input's homophones) or
    with one character inside ("开间公司" for 开公司, "装个电表" for 装电表), a
    longer one with its words in another order in a short answer ("公司注册"),
    or the whole answer being part of a service's names ("医保参保"; "住房公积金"
    is part of five). For the service question only, after the stricter
    matchers found nothing; in catalog order."""
    cleaned = _KEY_NOISE.sub("", mandarin(text)).lower()
    found: dict[str, Service] = {}
    for service in load_services():
        for alias in (service.name, *service.aliases):
            key = _KEY_NOISE.sub("", alias).lower()
            if len(cleaned) >= shortest and cleaned in key:
                found[service.id] = service  # a name cut short: "住房公积金", "医保参保"
                continue
            if len(key) > SHORT_ALIAS and len(cleaned) <= len(key) + SHORTLY:
                # the words of a name in another order: "公司注册" for 注册公司
                if not Counter(key) - Counter(cleaned):
                    found[service.id] = service
                continue
            if len(key) != SHORT_ALIAS:
                continue
            one_off = any(
                sum(a != b for a, b in zip(cleaned[i : i + 3], key, strict=True)) == 1
                for i in range(len(cleaned) - 2)
            )
            one_inside = any(
                w[0] == key[0] and w[3] == key[2] and key[1] in (w[1], w[2])
                for w in (cleaned[i : i + 4] for i in range(len(cleaned) - 3))
            )
            if one_off or one_inside:
                found[service.id] = service
    return list(found.values())


#: At most this many services are offered as a choice when an answer names a
#: part several services share ("医保", "住房公积金"); more: ask again.
MAX_CHOICES = 6


#: Characters that say nothing of which service: "的那种", "我想要个".
_NO_SERVICE_CHARS = set("的了是在我你他要想那这种个一下吧啊呢吗")


def narrowed_choice(text: str) -> Service | None:
    """Of the services a shared part names ("医保": four of them), the one the
    rest of the answer points to: "交医保 居民的那种" shares 居民医保 with
    城乡居民医保参保登记 and only 医保 with the others; "失业了想领补助" shares
    领失业 with 领失业金. None when two are equally close (then offer them)."""
    candidates = short_alias_candidates(text, shortest=2)
    if not 2 <= len(candidates) <= MAX_CHOICES:
        return None
    said = set(_KEY_NOISE.sub("", mandarin(text))) - _NO_SERVICE_CHARS
    ranked = sorted(
        ((max(len(said & set(alias)) for alias in (s.name, *s.aliases)), s) for s in candidates),
        key=lambda item: -item[0],
    )
    return ranked[0][1] if ranked[0][0] > ranked[1][0] else None


def offer_choice(dispatcher: CollectingDispatcher, text: str) -> bool:
    """When ``text`` names a part of 2..MAX_CHOICES services' names ("住房公积金":
    提取, 贷款, 转移, 账户, 缴存证明), offer them as buttons and say so."""
    candidates = short_alias_candidates(text, shortest=2)
    if not 2 <= len(candidates) <= MAX_CHOICES:
        return False
    dispatcher.utter_message(
        text="和这个相关的事项有好几项，请问您要办理的是哪一项？",
        buttons=[
            {"title": s.name[:20], "payload": f'/request_service_guide{{"service":"{s.id}"}}'}
            for s in candidates
        ],
    )
    return True


#: Characters that only one service's names use ("犯" of 无犯罪记录证明, "驾" of
#: 驾驶证): an answer holding this many of one service's own characters names it.
OWN_CHARS = 2


def _own_characters() -> dict[str, tuple[Service, set[str]]]:
    """service id -> (service, the characters only its names use, in at least two
    of them: a typo alias's odd character or the 了 of 身份证丢了 does not count)."""
    users: dict[str, set[str]] = {}
    uses: dict[tuple[str, str], int] = {}
    for service in load_services():
        for alias in (service.name, *service.aliases):
            for ch in set(_KEY_NOISE.sub("", alias)):
                users.setdefault(ch, set()).add(service.id)
                uses[service.id, ch] = uses.get((service.id, ch), 0) + 1
    return {
        service.id: (
            service,
            {
                ch
                for ch, ids in users.items()
                if ids == {service.id} and uses[service.id, ch] >= OWN_CHARS
            },
        )
        for service in load_services()
    }


def match_by_own_characters(text: str) -> Service | None:
    """The one service of which the answer holds at least OWN_CHARS characters
    no other service's name uses: "开个证明，证明我没犯过事的那种" (明, 犯: 无犯罪
    记录证明), "孩子上学积分的事" (分, 学: 积分入学). The service question's last
    resort: the next question names the service understood, with "不是这个"."""
    said = set(_KEY_NOISE.sub("", mandarin(text)))
    scores = sorted(
        ((len(own & said), service) for service, own in _own_characters().values()),
        key=lambda item: -item[0],
    )
    if not scores or scores[0][0] < OWN_CHARS:
        return None
    if len(scores) > 1 and scores[1][0] == scores[0][0]:
        return None
    return scores[0][1]


def _swapped(current: Service | None, wrong: str, right: str) -> Service | None:
    """ "不是水表，是电表" while 用水报装过户 is understood: the service whose name
    is the understood one's with 水表 replaced by 电表 (电表过户)."""
    if current is None:
        return None
    for alias in (current.name, *current.aliases):
        if wrong in alias:
            other = match_service(alias.replace(wrong, right))
            if other is not None and other.id != current.id:
                return other
    return None


def _named_ids(text: str) -> set[str]:
    """The ids of the services ``text`` names (in Mandarin or as written)."""
    found = (match_service(text), match_service(mandarin(text)), match_short_alias(text))
    return {service.id for service in found if service is not None}


def only_way(service: Service) -> str | None:
    """The single way a service can be done, when there is only one."""
    if service.online is None:
        return "offline"
    if service.offline is None:
        return "online"
    return None


def render_online(service: Service) -> str:
    assert service.online is not None
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(service.online.steps, 1))
    return f"【{service.name}·网上办理】\n办理入口：{service.online.entry}\n办理步骤：\n{steps}"


def render_offline(service: Service) -> str:
    assert service.offline is not None
    way = service.offline
    materials = "\n".join(f"{i}. {m}" for i, m in enumerate(way.materials, 1))
    lines = [f"【{service.name}·线下办理】", f"办理地点：{way.office}"]
    if way.address:
        lines.append(f"地址：{way.address}")
    lines += [f"办理时间：{way.hours}", f"所需材料：\n{materials}"]
    if way.process:
        lines.append("办理流程：" + " → ".join(way.process))
    lines += [f"收费标准：{way.fees}", f"办理时限：{way.time_limit}"]
    return "\n".join(lines)


def render_guide(service: Service, mode: str) -> str:
    body = render_online(service) if mode == "online" else render_offline(service)
    note = "示例内容，以官方最新发布为准" if service.sample else "以官方最新发布为准"
    return (
        f"{body}\n承办部门：{service.department}\n"
        f"（来源：{service.source}；更新于{service.updated.isoformat()}；{note}）"
    )


def guide_buttons(service: Service, mode: str) -> list[dict[str, str]]:
    buttons = []
    other = "offline" if mode == "online" else "online"
    if (service.offline if other == "offline" else service.online) is not None:
        title = "看线下办理" if other == "offline" else "看网上办理"
        payload = f'/request_service_guide{{"service":"{service.id}","service_mode":"{other}"}}'
        buttons.append({"title": title, "payload": payload})
    buttons += [
        {"title": "查其他事项", "payload": "/request_service_guide"},
        {"title": "转人工客服", "payload": "/request_human"},
    ]
    return buttons


class ActionStartServiceGuide(Action):
    """Pre-fill service and way from the request, so the form asks only what is missing."""

    def name(self) -> str:
        return "action_start_service_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # "走廊全是烟 门都出不去 怎么办" read as a request of a service: 119 first
        warn_if_danger(dispatcher, tracker)
        text = latest_text(tracker)
        service = (
            service_by_id(str(tracker.get_slot("service") or ""))
            or match_service(read_initials(text))  # "sfz丢了怎么补": 身份证丢了
            # the entity of the model's service retriever (domain.yml fills the
            # slot from it; read here too, should the slot not be filled yet)
            or service_by_id(str(next(tracker.get_latest_entity_values("service"), "") or ""))
        )
        if service is None and tracker.latest_message.get("intent", {}).get("name") == (
            "inform_service_mode"
        ):
            service = service_by_id(str(tracker.get_slot("last_service") or ""))
        mode = tracker.get_slot("service_mode") or mode_from_text(text)
        if service is not None and only_way(service):
            mode = only_way(service)
        return [
            SlotSet("service", service.id if service else None),
            SlotSet("service_mode", mode),
        ]


class ValidateServiceGuideForm(CitizenFormValidation):
    """Map free text to a catalog service and to online/offline; both questions
    also take "不知道", "上一步" and corrections (actions/_forms.py)."""

    FIELDS = {
        "service": re.compile(r"事项|业务|要办的事|办的事"),
        "service_mode": re.compile(r"办理方式|方式|线上线下"),
    }
    TITLES = {"service": "办理事项", "service_mode": "办理方式"}

    def name(self) -> str:
        return "validate_service_guide_form"

    async def skip(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if slot == "service":
            dispatcher.utter_message(
                text="没关系，您可以直接说想办什么事，例如“换身份证”“开个体户”“提取公积金”，"
                "或从常办事项里选；说不清的话也可以转人工客服。",
                buttons=[{"title": "转人工客服", "payload": "/request_human"}],
            )
            return {slot: None}
        service = service_by_id(str(tracker.get_slot("service") or ""))
        mode = "online" if service is None or service.online is not None else "offline"
        if mode == "online":
            dispatcher.utter_message(
                text="那我先为您介绍网上办理（不用跑窗口），看完也可以点“看线下办理”。"
            )
        return {slot: mode}

    def reads_itself(self, slot: str) -> bool:
        return slot == "service_mode"

    def leaves(self, slot: str, text: str) -> Literal["cancel", "human"] | None:
        way = super().leaves(slot, text)
        if slot == "service_mode" and way == "cancel":
            # "不在网上办": not giving up, choosing the other way
            quits = [part for part in clauses(text) if leaving(part) == "cancel"]
            if quits and all(read_mode(part) is not None for part in quits):
                return None
        return way

    def answers(self, slot: str, text: str) -> bool:
        if super().answers(slot, text):
            return True
        if slot == "service_mode":
            return read_mode(text) is not None  # "不想跑": online
        return (match_service(text) or match_service(mandarin(text))) is not None

    async def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if is_filler(text) or is_bare_negation(text):
            dispatcher.utter_message(
                text="好的。请告诉我您想办理的事项，例如“换身份证”“提取公积金”“办居住证”。"
            )
            return {"service": None}
        said = not_but(text) or not_but(mandarin(text))  # also "唔系A 系B"
        service = (
            service_by_id(text)
            or (match_service(said[1]) if said else None)
            or match_service(text)
            or match_service(mandarin(text))
            or match_service_loosely(said[1] if said else text)
            or match_short_alias(said[1] if said else text)
            or match_by_own_characters(said[1] if said else text)
            or narrowed_choice(said[1] if said else text)
        )
        if said and service is not None and service.id in _named_ids(said[0]):
            # "唔系换身份证 系补户口簿": never the service said not to be it
            service = match_service(said[1]) or match_short_alias(said[1])
        if service is None and offer_choice(dispatcher, said[1] if said else text):
            return {"service": None}
        if service is None:
            # "证明我没犯过事的那种": no name, but the model's retriever is sure
            service = retriever_guess(tracker, text)
        if service is None:
            names = "、".join(s.name for s in load_services()[:8])
            dispatcher.utter_message(
                text=f"抱歉，办事指南里暂时没有找到这个事项。目前可查询的事项有：{names}等。"
                "您可以换个说法，或回复“取消”。"
            )
            return {"service": None}
        slots: dict[str, Any] = {"service": service.id}
        if only_way(service):
            slots["service_mode"] = only_way(service)
        return slots

    async def validate_service_mode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        said = not_but(mandarin(text))
        current = service_by_id(str(tracker.get_slot("service") or ""))
        other = None
        if said:
            # "不是社保卡，是医保": set against the service understood, even two
            # characters of one service's names say which
            other = (
                match_service(said[1])
                or _swapped(current, *said)
                or match_short_alias(said[1], shortest=2)
                # "不是驾照，是行驶证违章": the right one as loosely as at the service question
                or match_service_loosely(said[1])
                or match_by_own_characters(said[1])
            )
        if other is not None and other.id != tracker.get_slot("service"):
            # "不是身份证，是社保卡": the service understood was wrong, this one is right
            return {"service": other.id, "service_mode": only_way(other)}
        if said and other is None and offer_choice(dispatcher, said[1]):
            # "不是社保卡，是医保": several services are 医保; which one
            return {"service": None, "service_mode": None}
        actually = _ACTUALLY.search(mandarin(text))
        if actually is not None:
            # "我想办的其实是居住证": the service understood was not the one meant
            other = match_service(actually.group(1)) or match_short_alias(
                actually.group(1), shortest=2
            )
            if other is not None and other.id != tracker.get_slot("service"):
                return {"service": other.id, "service_mode": only_way(other)}
            if other is None and offer_choice(dispatcher, actually.group(1)):
                return {"service": None, "service_mode": None}
        other = named_instead(text, str(tracker.get_slot("service") or ""))
        if other is not None:
            # "我说的是电 不是水 电表过户": a "no" and another service named in a clause
            return {"service": other.id, "service_mode": only_way(other)}
        if text.startswith("/deny") or _NOT_THIS.search(text):
            # "不是这个": the service understood was wrong. "不是这个，是社保卡"
            # (or "我要办的不是居住证，是户口迁入") names the right one: take it
            # (its way is asked next); else ask which service again.
            told = read_initials(text.removeprefix("/deny"))  # "不是这个，是sfz"
            said = not_but(told)
            other = (match_service(said[1]) if said else None) or match_service(told)
            right = _RIGHT_ONE.search(mandarin(text))
            if right is not None and (other is None or other.id == tracker.get_slot("service")):
                other = match_service(right.group(1)) or match_short_alias(
                    right.group(1), shortest=2
                )
            if other is not None and other.id != tracker.get_slot("service"):
                return {"service": other.id, "service_mode": only_way(other)}
            if right is not None and other is None:
                offer_choice(dispatcher, right.group(1))  # "我要的是医保": which one
            return {"service": None, "service_mode": None}
        mode = value if value in ("online", "offline") else read_mode(text)
        if mode is None and (says_unknown(text) or any_way(text)):
            # "不知道", "随便 你看着办": the way that needs no trip, if there is one
            return await self.skip("service_mode", dispatcher, tracker)
        if mode is None:
            dispatcher.utter_message(
                text="请选择办理方式：回复“网上办理”（不用跑窗口），或“线下办理”（到窗口现场办）。"
            )
        return {"service_mode": mode}


class ActionAskServiceMode(Action):
    """The question for the way, naming the service understood (issue 18: the
    citizen must be able to tell whether they were understood), with
    "不是这个" to correct it (validate_service_mode asks for the service again)."""

    def name(self) -> str:
        return "action_ask_service_mode"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        service = service_by_id(str(tracker.get_slot("service") or ""))
        buttons = [
            {"title": "网上办理", "payload": '/inform_service_mode{"service_mode":"online"}'},
            {"title": "线下窗口办理", "payload": '/inform_service_mode{"service_mode":"offline"}'},
        ]
        if service is None:
            dispatcher.utter_message(text="您想在网上办理，还是到线下窗口办理？", buttons=buttons)
            return []
        buttons.append({"title": "不是这个", "payload": "/deny"})
        dispatcher.utter_message(
            text=f"您要办理的是“{service.name}”。想在网上办理，还是到线下窗口办理？",
            buttons=buttons,
        )
        return []


class ActionServiceGuide(Action):
    """Answer with the catalog's steps for the chosen service and way."""

    def name(self) -> str:
        return "action_service_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        service = service_by_id(str(tracker.get_slot("service") or ""))
        mode = tracker.get_slot("service_mode")
        if service is None or mode not in ("online", "offline"):
            dispatcher.utter_message(response="utter_ask_service")
            return [SlotSet("service", None), SlotSet("service_mode", None)]
        if only_way(service) and only_way(service) != mode:
            mode = only_way(service)
            dispatcher.utter_message(
                text="该事项目前只能" + ("线下办理。" if mode == "offline" else "网上办理。")
            )
        text, buttons = render_guide(service, mode), guide_buttons(service, mode)
        if mode == "online":
            # Ask how it went (网上业务办理成功率): the answers come first.
            text += (
                "\n办好后请告诉我结果：点“已办好”；网上办理遇到问题，点“遇到问题”，我帮您想办法。"
            )
            buttons = outcome_buttons(service.id) + buttons
        dispatcher.utter_message(text=text, buttons=buttons)
        await record_event("guide_answered", tracker, service=service.id, mode=mode)
        events = [
            SlotSet("last_service", service.id),
            SlotSet("service", None),
            SlotSet("service_mode", None),
        ]
        if mode == "online":
            events += await online_way_given(tracker, service)
        return events
