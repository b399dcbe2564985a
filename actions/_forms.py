"""What every form question accepts besides its answer (issue 21).

Each form's validation action derives from :class:`CitizenFormValidation`,
which looks at the citizen's answer to the question asked (the requested
slot) before the form's own ``validate_<slot>`` methods see it:

- "不知道" / "跳过" (and the like, said alone): :meth:`skip` decides; an
  optional question gets "未提供", a needed one gets a reason and a way out
  (a person, or cancelling);
- "上一步": the previous question is asked again;
- a correction of an earlier answer, at any question: "地址说错了，是东城街道…"
  replaces that answer (checked by its own validator) and the current
  question is asked again; "地址说错了" alone asks the address again;
  "不是万江，是东城" replaces the answer that said 万江;
- "算了" is the NLU's ``stop`` intent: the slots' mappings leave it out, the
  form is rejected and the rules cancel it (data/rules.yml);
- an answer the NLU took for ``stop`` or ``request_human`` ("不想跑" for the
  way, "说不清楚具体位置" for the place): Rasa runs the active form before
  the rules and always calls its validation, which reads the message against
  the question asked (:meth:`CitizenFormValidation.answers`) and takes it as
  the answer; a message that leaves ("不办了", "转人工") is left to the rules.

A slot set to nothing is never validated. The actions that start a form
clear its slots (``SlotSet(slot, None)``), and Rasa passes every slot set
since the citizen's message to the validation action when the form starts:
the validators used to see those empty values and answer them ("工单编号格式
不对…" before the first question, or "未提供" written into questions never
asked). The sentence that started a form is likewise never an answer: only
the start actions read it, for what it says (a ticket number, a place).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, ClassVar, Literal

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._runtime import (
    EMERGENCY_TEXT,
    danger_alarm,
    latest_intent,
    latest_text,
    warned_in_form,
)
from actions.answers import (
    DENIED,
    LEAD,
    MISTAKE,
    as_written,
    corrected_within,
    denied_then,
    leaving,
    mandarin,
    mistake_said,
    normalise_digits,
    not_but,
    says_unknown,
    tail_replaced,
    typed_as,
    without_trailing_not,
)

REQUESTED_SLOT = "requested_slot"

_END = r"[了吧啊呀呢哦噢嘛～~。.!！?？\s]*$"
_SKIP = re.compile(
    r"^(?:我|我也|这个|这个我|这题|这一项|先)?"
    r"(?:跳过|略过|下一个|下一题|不填|不知道|不清楚|不记得|记不清|记不得|忘了|忘记了|"
    r"想不起来|说不上来|说不清|不晓得|唔知)" + _END
)
_BACK = re.compile(
    r"^(?:请)?(?:返回|回到|退回|退回到|回|后退|退)?(?:到)?上一(?:步|题|个问题|个|项)"
    + _END
    + r"|^(?:后退一步|退回去|返回)"
    + _END
)
_POLITE = (
    LEAD + r"(?:(?:更正一下|纠正一下|刚才|刚刚|头先|前面|之前|上面|我|把|将|那个|这个|个)[，,\s]*)*"
    r"(?:的|说的|留的|填的|写的|给的|报的|讲的|打的|那个)?(?:投诉|反映|举报)?"
)
_MISTAKE = (
    r"(?:说|写|打|输|填|搞|弄|记|讲|留|报)?(?:错了|错|不对|有误|不准确|有问题)"
    r"|(?:多|少|漏)(?:打|输|写|填)"  # "号码多打了一个数", "单号少打了一位"
    # "电话漏了一位"
    r"|(?:多|少|漏)(?:了|咗)(?:(?:一个|一位|个|几个|几)(?:数字|数|位|字)?|数字|数|位|字)"
    r"|没(?:有)?(?:说|讲|写|填)(?:清楚|对|全)"  # "那个问题我没说清楚"
    # "地点写漏了", "地址漏了门牌": something left out
    r"|(?:说|写|讲|填)漏了|漏(?:说|写|讲|填)了|(?:漏|少)(?:了|咗|掉)"
    # "地址说得不清楚" (with 得: "说不清楚" is not knowing)
    r"|(?:说|写|讲|填|描述)[的得]不(?:清楚|具体|明白|准确|对|完整|全)"
    r"|(?:是)?旧的|是以前的|(?:已经)?停机了|(?:已经)?停用了"  # "刚刚给的号码是旧的，新号码…"
)
_CHANGE = (
    r"(?:要)?(?:改成|改为|换成|更正为|更改为|变更为|改一下|修改一下|修改|更正|更改|变更|重新说|重说|重填"
    r"|改下|换一下|换下|补充一下|补充下|补充"
    # "前面说的事情要改，是…", "地点改一改"
    r"|改一改|改改|改(?=[，,。\s]|$)|换(?:一)?个(?=[，,。\s]|$)"
    r"|再说一遍|再说一次|再讲一遍|再讲一次|重新讲)"
)
#: What comes between "地址说错了" and the new value: "，应该是", "一位 是", "了，正确的是".
_VALUE_AFTER = re.compile(
    r"^[了的啦，,。\s]*(?:[^，,。\s\d]{0,4}?[，,\s]*)?(?:应该|应|正确的|其实|实际上)?(?:是|为|在|：|:)\s*"
)
#: "电话最后一位错了 13924567813": the value right after a separator, unless it
#: is no value ("地址说错了，我重新说").
_BARE_VALUE_AFTER = re.compile(r"^(?:一下|下)?[了的啦]*[，,。：:\s]+(?![我你再重等稍那])")
#: "莞城写错了，是万江": a wrong earlier answer named by its value.
_VALUE_WRONG = re.compile(
    # "我刚说的漏水不对": the words before the value say whose answer it was
    rf"^{LEAD}(?:我?(?:刚才|刚刚|刚|之前|前面|上面|头先)我?(?:说|写|填|讲|打|留)的|我(?:说|写|填)的|把|将)?"
    rf"([^，,。\s]{{2,12}}?)(?:那个|这个)?(?:(?:{MISTAKE}|不对|有误|不准确|是错的|是不对的|错的"
    # "停水写成了，其实是停电": the earlier answer was said in error
    rf"|(?:说|写|打|填|讲|记|输)成了?)"
    rf"[哈啊呀喔噢哦啦]*(?:[，,。\s]*(?:应该|其实|正确的)?(?:是|为|在)|[，,。\s]+)"
    rf"|(?:要)?(?:改成|改为|换成|应为|应该是))\s*(.+)$"
)
#: "宏伟路是宏远路", "南城改成万江": the wrong words, then the right ones.
_A_IS_B = re.compile(
    r"^([^，,。\s]{2,12}?)(?:应该是|应为|其实是|是|改成|改为|换成)([^，,。\s]{2,20})$"
)
#: A mistake said after the right value: "手机号是13312345687 刚刚输反了".
_MISTAKE_AFTER = re.compile(
    r"[，,。\s]+(?:我)?(?:刚才|刚刚|之前|前面|头先|上面)?(?:我)?(?:那个|那句|个)?"
    r"(?:" + MISTAKE + r")[了吧啊呀]*$"
)
#: "电话是13800001243才对": the value said to be the right one.
_RIGHT_AFTER = re.compile(r"(?<=.)(?:才对|才是对的|就对了|先啱|先对)[了吧啊呀]*$")
#: "我想把最开始说的问题改一下，是…": the answer named after 把, then the change.
_PUT = (
    r"(?:我要|我想|帮我|请|麻烦)?(?:把|将)(?:最开始|一开始|开头|刚才|之前|前面|第一个)?"
    r"(?:说|讲|填|写|留)?的?(?:那个)?"
)
#: A number in what follows a correction: the validator takes it out.
_NUMBER = re.compile(r"\d{4,}")
#: "单号应该是…", "地址其实在东城": naming the field and its right value.
_SHOULD_BE = r"(?:应该|应|其实|正确的|实际上|实际)(?:是|为|在|写成?|填成?|改成|改为)[：:\s]*"


#: "跳过", "不知道" and the like, said alone.
SKIP_WORDS = _SKIP

#: Intents the slot mappings leave out (domain.yml ``not_intent``) whose rules
#: end the form; the NLU gives them to some answers ("不想跑" as ``stop``,
#: "说不清楚具体位置" as ``request_human``). ``emergency`` is never second-guessed.
MISREAD_INTENTS = ("stop", "request_human")
#: Giving up somewhere in the message ("身份证不办了", "那就取消吧"): no answer,
#: even when a clause names a service or a place.
_QUITS = re.compile(
    r"不(?:想|要|用|打算|需要)?(?:再|继续)?(?:办|弄|搞|查|投诉|投|举报|反映|问|咨询|登记|整|处理)"
    r"(?:了|啦|咯|喇|吧|$)|取消|退出|撤销|放弃|结束|下次|改天|没事了|再见|拜拜"
)
#: A person named anywhere in the message ("让工作人员跟我说", "派人来看"):
#: with ``request_human`` it asks for one, whatever else it says.
_PERSON = re.compile(
    r"人工|真人|活人|客服|工作人员|接线员|话务员|坐席|领导|负责人|专人|派人|找人|叫人|来人"
)


def asked_before_message(tracker: Tracker, requested: str, form: str) -> bool:
    """True when ``form`` had asked ``requested`` when the citizen's latest
    message came: the message answers that question."""
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if not users:
        return False
    asked, loop = None, None
    for event in tracker.events[: users[-1]]:
        if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            asked = event.get("value")
        elif event.get("event") == "active_loop":
            loop = event.get("name")
    ran = [e.get("name") for e in tracker.events[users[-1] + 1 :] if e.get("event") == "action"]
    return (
        asked == requested
        and loop == form
        and all(name in ("action_extract_slots", "action_listen", form) for name in ran)
    )


def skip_said(tracker: Tracker, text: str) -> bool:
    """The citizen says they cannot or will not answer this question."""
    return bool(_SKIP.match(text)) or (latest_intent(tracker) == "skip" and len(text) <= 8)


def back_said(tracker: Tracker, text: str) -> bool:
    """The citizen wants the previous question again."""
    return bool(_BACK.match(text)) or (latest_intent(tracker) == "go_back" and len(text) <= 12)


def _clean_value(text: str) -> str:
    """The new value of a correction, without a trailing "不是厚街"."""
    return without_trailing_not(text.strip().strip("，,。.!！ ").strip()).strip("，,。.!！ ")


def parse_correction(
    text: str, fields: dict[str, re.Pattern[str]]
) -> tuple[str, str | None] | None:
    """(slot, new value or None) when ``text`` corrects an earlier answer.

    Only a message that *starts* by naming the field and saying it was wrong
    ("地址说错了，是…", "刚才电话留错了", "时间改为上周五") is a correction:
    an answer that merely mentions a field ("物业说我电话不对") is an answer.
    """
    for slot, words in fields.items():
        pattern = re.compile(
            rf"^{_POLITE}(?:{words.pattern})[^，,。]{{0,4}}?(?:{_MISTAKE}|{_CHANGE})"
        )
        match = pattern.match(text)
        if match is None:
            continue
        rest = text[match.end() :]
        said = match.group(0)
        if re.search(r"(改成|改为|换成|更正为|更改为|变更为)$", said):
            value = _clean_value(rest)
        elif (instead := not_but(rest.strip("，,。 "))) is not None:
            value = instead[1]  # "地址错了，不是东城，是南城"
        else:
            after = _VALUE_AFTER.match(rest) or _BARE_VALUE_AFTER.match(rest)
            value = _clean_value(rest[after.end() :]) if after else ""
            if not value and _NUMBER.search(normalise_digits(rest)):
                value = _clean_value(rest)  # "电话漏了一位 重新说 13912345678"
        return slot, value or None
    for slot, words in fields.items():
        match = re.match(rf"^{_POLITE}(?:{words.pattern})[^，,。\s\d]{{0,4}}?{_SHOULD_BE}", text)
        if match is not None:
            return slot, _clean_value(text[match.end() :]) or None
    denied = DENIED.match(text)
    if denied is not None:
        # "不对，号码是13612345687": a "no", then a field named with its value
        for slot, words in fields.items():
            rest = text[denied.end() :]
            named = rf"^(?:我的|那个|这个)?(?:{words.pattern})(?:应该)?(?:是|为|：|:)\s*"
            match = re.match(named, rest)
            if match is not None:
                return slot, _clean_value(rest[match.end() :]) or None
    for slot, words in fields.items():
        put = re.match(
            rf"^{_POLITE}{_PUT}(?:{words.pattern})(?:{_CHANGE})(?:一下)?[，,\s]*"
            r"(?:应该|其实)?(?:是|为|成|：|:)?\s*",
            text,
        )
        if put is not None:
            return slot, _clean_value(text[put.end() :]) or None
    tail = _MISTAKE_AFTER.search(text) or _RIGHT_AFTER.search(text)
    for slot, words in fields.items() if tail else ():
        given = re.match(
            rf"^{_POLITE}(?:我的|那个)?(?:{words.pattern})(?:应该)?(?:是|为|：|:)\s*", text
        )
        if given is not None and tail is not None and tail.start() > given.end():
            return slot, _clean_value(text[given.end() : tail.start()]) or None
    for slot, words in fields.items():
        pattern = re.compile(
            rf"^{_POLITE}(?:我要|我想|帮我|请)?"
            rf"(?:改一下|修改一下|改下|修改下|更正下|改一改|改改|修改|更正|更改|变更|纠正|改|重新填|重填|重新说"
            rf"|重新描述|重新讲|重讲|再说一次|再讲一次|再说一遍)"
            rf"(?:一下|下)?[，,\s]*(?:刚才的|之前的|前面的|我的)?(?:投诉|反映|举报)?的?(?:{words.pattern})"
        )
        match = pattern.match(text)
        if match is None:
            continue
        rest = text[match.end() :]
        after = re.match(
            r"^[，,\s]*[^，,。]{0,4}?(?:改成|改为|换成|应该是|是|为|：|:)\s*", rest
        ) or _BARE_VALUE_AFTER.match(rest)  # "修改地址 东城主山社区"
        value = _clean_value(rest[after.end() :]) if after else ""
        return slot, value or None
    return None


def asked_again(tracker: Tracker, requested: str) -> bool:
    """True when the citizen's previous message already answered ``requested``
    (and the question was asked again): "说错了，是…" is then about that answer."""
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if len(users) < 2:
        return False
    asked = None
    for event in tracker.events[: users[-2]]:
        if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            asked = event.get("value")
    return bool(asked == requested)


#: Characters that say nothing of what an answer is about.
_FUNCTION_CHARS = re.compile(r"[\W_的了是在我你他她它们这那个就也都很有没不吧啊呢吗呀哦]")


def _alike(earlier: Any, value: str) -> bool:
    """True when ``value`` shares a content character with the ``earlier``
    answer ("路灯坏了" and "路灯不亮", "漏水" and "渗水"): a likely correction of it."""
    if not isinstance(earlier, str):
        return False
    return bool(set(_FUNCTION_CHARS.sub("", earlier)) & set(_FUNCTION_CHARS.sub("", value)))


def _shared(earlier: Any, value: str) -> int:
    """How many content characters ``value`` shares with the ``earlier`` answer."""
    if not isinstance(earlier, str):
        return 0
    return len(set(_FUNCTION_CHARS.sub("", earlier)) & set(_FUNCTION_CHARS.sub("", value)))


def _near(value: Any, wrong: str, right: str) -> str | None:
    """The part of an earlier answer the citizen misnamed: "狗叫扰民" said as
    "不是狗吠，是鸡叫" -> "狗叫" (as long as 狗吠, one character in place shared
    with it, the other with the right word); None when nothing is that close."""
    if not isinstance(value, str) or len(wrong) < 2 or len(wrong) > 6:
        return None
    for i in range(len(value) - len(wrong) + 1):
        window = value[i : i + len(wrong)]
        same = sum(a == b for a, b in zip(window, wrong, strict=True))
        if same >= len(wrong) - 1 and same and set(window) - set(wrong) <= set(right):
            if set(window) - set(wrong):
                return window
    return None


_DIGIT = "0-9零〇一二两三四五六七八九十百"
#: A number with its unit: "十一点", "3号", "五栋".
_COUNTED = re.compile(rf"^[{_DIGIT}]+(?:点半|点|号|日|月|栋|楼|层|期|巷|路|分)$")


def _in_context(wrong: str, right: str) -> str:
    """``right`` with the words of ``wrong`` it leaves out when it corrects
    only the number: "晚上十点不对，是十一点" means 晚上十一点."""
    if not _COUNTED.match(right):
        return right
    unit = re.sub(rf"^[{_DIGIT}]+", "", right)
    said = re.search(rf"[{_DIGIT}]+{re.escape(unit)}$", wrong)
    if said is None or said.start() == 0:
        return right
    return wrong[: said.start()] + right


def _replaced(value: Any, wrong: str, right: str) -> str:
    """An earlier answer with ``wrong`` replaced by ``right``: "小区漏水" with
    "不是漏水，是停水" is "小区停水", "20261130-000088" with "不是000088，是000089"
    is "20261130-000089"; a ``right`` that says it all ("不是路灯，是红绿灯坏了"
    for "路灯坏了") replaces the whole answer."""
    if not isinstance(value, str) or wrong not in value:
        return right
    right = _in_context(wrong, right)
    rest = value.replace(wrong, "", 1)
    if len(wrong) >= len(value) or (rest and rest in right):
        return right
    return value.replace(wrong, right, 1)


class CitizenFormValidation(FormValidationAction):
    """A form validation that understands skipping, going back and corrections.

    Subclasses set :attr:`FIELDS` (slot -> the words naming it, in the form's
    order) and :attr:`TITLES` (slot -> its name for the citizen), and may
    override :meth:`skip`, :meth:`not_asked` and :meth:`shown`.
    """

    FIELDS: ClassVar[dict[str, re.Pattern[str]]] = {}
    TITLES: ClassVar[dict[str, str]] = {}

    @abstractmethod
    def name(self) -> str:
        """``validate_<form>`` (abstract: rasa-sdk registers only concrete actions)."""

    # --- what a subclass decides --------------------------------------------
    async def skip(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The question ``slot`` was skipped: its value, or None with a reason said."""
        dispatcher.utter_message(text=f"这一项需要您回答，才能继续办理（{self.TITLES[slot]}）。")
        return {slot: None}

    def not_asked(self, tracker: Tracker) -> set[str]:
        """Slots this conversation's form fills by itself (never asked, never gone back to)."""
        return set()

    def shown(self, slot: str, value: Any) -> str:
        """A value as the citizen is shown it (a phone number masked)."""
        return str(value)

    def refusable(self, slot: str) -> bool:
        """True when the question ``slot`` takes a refusal ("不用了" refuses it);
        elsewhere "不用了" alone declines the whole form."""
        return False

    def corrected(self, slot: str, value: str, earlier: Any = None) -> dict[str, Any] | None:
        """Slot values for a corrected earlier answer (``earlier``, as given)
        when it is taken as said, or None to check it with ``validate_<slot>``
        like a first answer."""
        return None

    def plain(self, slot: str, value: Any) -> Any:
        """An earlier answer as the citizen gave it (a sealed phone opened), to
        find the one a correction names ("13812348888不对，是…")."""
        return value

    def fits(self, slot: str, value: str) -> bool:
        """True when ``value`` has the shape of an answer to ``slot`` (a phone
        number, a ticket number): "打错了，是…" then answers that question."""
        return False

    def reads_itself(self, slot: str) -> bool:
        """True when ``validate_<slot>`` tells a refusal, "不知道" and a negation
        from an answer itself (actions/answers.py): the NLU's ``skip`` intent
        and the short "不知道" patterns then decide nothing for that question
        ("不需要匿名" is not a refusal)."""
        return False

    def leaves(self, slot: str, text: str) -> Literal["cancel", "human"] | None:
        """The citizen abandons the form or asks for a person with ``text``,
        said to the question ``slot`` (:func:`actions.answers.leaving`)."""
        return leaving(text, refusable=self.refusable(slot))

    def answers(self, slot: str, text: str) -> bool:
        """True when ``text`` plainly answers the question ``slot`` although
        the NLU took it for ``stop`` or ``request_human``: here "I don't
        know" and a correction of an earlier answer; subclasses add the
        answers their questions take ("不想跑" for the way)."""
        plain = mandarin(text)
        return (
            says_unknown(text)
            or parse_correction(plain, self.FIELDS) is not None
            or not_but(plain) is not None
        )

    def misread_answer(self, requested: str, tracker: Tracker) -> str | None:
        """The citizen's message when it answers ``requested`` but the NLU's
        ``stop`` or ``request_human`` kept it from the slot; None when it
        really leaves (the rules then cancel or hand over)."""
        intent = latest_intent(tracker)
        if intent not in MISREAD_INTENTS:
            return None
        text = latest_text(tracker)
        if not text or text.startswith("/"):
            return None
        if not asked_before_message(tracker, requested, self.form_name()):
            return None
        if self.leaves(requested, text) is not None:
            return None
        plain = mandarin(text)
        if _QUITS.search(plain) or (intent == "request_human" and _PERSON.search(plain)):
            return None
        return text if self.answers(requested, text) else None

    # --- the machinery ------------------------------------------------------
    def order(self, tracker: Tracker) -> list[str]:
        skipped = self.not_asked(tracker)
        return [slot for slot in self.FIELDS if slot not in skipped]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        asked = tracker.get_slot(REQUESTED_SLOT)
        if (
            asked in self.FIELDS
            and danger_alarm(tracker)
            and not warned_in_form(tracker, self.form_name())
        ):
            # danger told in the middle of a form ("等等 我妈突然晕倒了" given as an
            # answer): the numbers first, the form goes on (a person is one
            # button away; the answer is still read as the question's)
            dispatcher.utter_message(text=EMERGENCY_TEXT)
        candidates = {
            slot: value
            for slot, value in tracker.slots_to_validate().items()
            if slot in self.FIELDS and value is not None
        }
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in self.FIELDS and requested not in candidates:
            misread = self.misread_answer(str(requested), tracker)
            if misread is not None:
                candidates[requested] = misread
        answer = candidates.get(requested) if requested in self.FIELDS else None
        if isinstance(answer, str) and not answer.startswith("/"):
            left = self.leaves(str(requested), answer)
            if left is not None:
                return self._leave(left)
            handled = await self._control(
                str(requested), answer.strip(), dispatcher, tracker, domain
            )
            if handled is not None:
                tracker.slots.update(handled)
                return [SlotSet(slot, value) for slot, value in handled.items()]
        result: dict[str, Any] = {}
        for slot, value in candidates.items():
            validated = await self._validate_one(slot, value, dispatcher, tracker, domain)
            result.update(validated)
            tracker.slots.update(validated)
        return [SlotSet(slot, value) for slot, value in result.items()]

    async def _validate_one(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        method = getattr(self, f"validate_{slot}", None)
        if method is None:
            return {slot: value}
        output = await method(value, dispatcher, tracker, domain)
        return dict(output) if isinstance(output, dict) else {slot: value}

    async def _control(
        self,
        requested: str,
        text: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any] | None:
        """Slot values for a skip, a step back or a correction; None for a plain answer."""
        if back_said(tracker, text):
            return self._back(requested, dispatcher, tracker)
        written, text = text, mandarin(text)  # "号码错咗，系138…" reads as "号码错了，是138…"
        correction = (
            parse_correction(text, self.FIELDS)
            or self._not_but(requested, text, tracker)
            or self._misspelt_field(text)
        )
        if correction is None:
            correction = self.answered_elsewhere(requested, text, tracker)
        if correction is None:
            within = corrected_within(text)
            if within is not None:
                # "星期二 不对 星期三": the answer is the one meant
                meant = as_written(written, within[1])
                first = normalise_digits(within[0])
                if len(re.sub(r"\D", "", first)) >= 7 and len(re.sub(r"\D", "", meant)) <= 4:
                    meant = tail_replaced(first, meant, 4) or meant  # "…哦错了 最后一位是4"
                return await self._validate_one(requested, meant, dispatcher, tracker, domain)
            # the question's own field may be named first: "尾号不是1234 是4321"
            own = self.FIELDS[requested].pattern
            named = re.match(rf"^{_POLITE}(?:{own})(?:的|也)?[，,\s]*", text)
            said = not_but(text) or (not_but(text[named.end() :]) if named else None)
            if said is not None and self.fits(requested, said[1]):
                # "不是5678 是5687", "不是138…，是139…": a number said not to be
                # it (no earlier answer holds it), then the one meant
                meant = as_written(written, said[1])
                return await self._validate_one(requested, meant, dispatcher, tracker, domain)
            if not self.reads_itself(requested) and skip_said(tracker, text):
                return await self.skip(requested, dispatcher, tracker)
            return None
        field, value = correction
        value = as_written(written, value) if value else value
        earlier = self.plain(field, tracker.get_slot(field))
        if value and isinstance(earlier, str) and _COUNTED.match(value):
            value = _in_context(earlier, value)  # "时间打错了 6点 不是7点" for 早上七点
        if field == requested:
            if value is None:
                return {requested: None}  # "电话说错了" while being asked it: ask again
            return await self._validate_one(requested, value, dispatcher, tracker, domain)
        title = self.TITLES[field]
        if value is None:
            dispatcher.utter_message(text=f"好的，请重新告诉我{title}。")
            return {field: None, requested: None}
        validated = self.corrected(field, value, self.plain(field, tracker.get_slot(field)))
        if validated is None:
            validated = await self._validate_one(field, value, dispatcher, tracker, domain)
        new = validated.get(field)
        if new is not None:
            dispatcher.utter_message(text=f"好的，{title}已改为：{self.shown(field, new)}。")
        return {**validated, requested: None}

    @staticmethod
    def _leave(way: str) -> list[EventType]:
        """The form ends and the action of the rules for ``stop`` or
        ``request_human`` runs (data/rules.yml): the NLU did not say so, the
        answer does ("不投了，浪费时间", "我想跟客服本人讲")."""
        action = "action_handoff" if way == "human" else "action_cancel_process"
        return [SlotSet(REQUESTED_SLOT, None), ActiveLoop(None), FollowupAction(action)]

    def _value_was_wrong(
        self, text: str, requested: str, tracker: Tracker
    ) -> tuple[str, str] | None:
        """ "莞城写错了，是万江": the earlier answer named (莞城) is wrong, this is right."""
        match = _VALUE_WRONG.match(text)
        if match is None:
            return None
        wrong, right = match.group(1), without_trailing_not(match.group(2)).strip("，,。 ")
        for slot in self.order(tracker):
            value = self.plain(slot, tracker.get_slot(slot))
            if slot != requested and isinstance(value, str) and wrong in value and right:
                return wrong, right
        return None

    def _misspelt_field(self, text: str) -> tuple[str, str] | None:
        """ "地扯写错了，应该是…", "电活号码错了 136…": a field's two-character
        name with one character wrong, taken only when the new value reads as
        that field's answer (a place, a time, a phone number)."""
        typos = {
            slot: re.compile(
                "|".join(
                    rf"{w[0]}[^{w[1]}，,。\s\d]|[^{w[0]}，,。\s\d]{w[1]}"
                    for w in words.pattern.split("|")
                    if len(w) == 2 and re.fullmatch(r"[\u4e00-\u9fff]{2}", w)
                )
            )
            for slot, words in self.FIELDS.items()
        }
        said = parse_correction(text, {s: p for s, p in typos.items() if p.pattern})
        slot, value = said if said is not None else ("", None)
        if value is None:
            return None
        if self.fits(slot, value) or self.reads_as(slot, value):
            return slot, value
        return None

    @staticmethod
    def _is_instead(text: str) -> tuple[str, str] | None:
        """ "啊我说错 宏伟路是宏远路": after a mistake said, "A是B" (A an earlier answer's)."""
        mistaken, value = mistake_said(text)
        match = _A_IS_B.match(value or "") if mistaken else None
        return (match.group(1), match.group(2)) if match else None

    def _previous(self, requested: str, tracker: Tracker) -> str | None:
        """The question asked before ``requested`` (its answer was the last given)."""
        order = self.order(tracker)
        index = order.index(requested) if requested in order else 0
        return order[index - 1] if index > 0 else None

    def _not_but(self, requested: str, text: str, tracker: Tracker) -> tuple[str, str] | None:
        """ "不是万江，是东城" (also after "刚才说错了"): the earlier answer that
        said 万江 becomes 东城; "不是路灯，是红绿灯坏了" replaces "路灯坏了" whole.
        Naming the field first ("时间不是每晚，是每天早上") says which answer.
        "刚才打错字了，是路灯倒了" names none: the answer just given (the
        previous question's) is replaced."""
        for slot, words in self.FIELDS.items():
            named = re.match(rf"^{_POLITE}(?:{words.pattern})(?:的|也|倒)?[，,\s]*", text)
            said = not_but(text[named.end() :]) if named else None
            if said is not None and slot != requested:
                return slot, _replaced(tracker.get_slot(slot), *said)
        # "不是A，是B" / "A写错了，是B": the earlier answer that said A; the first
        # reading whose A an earlier answer holds ("我刚说的漏水不对" is about 漏水)
        readings = [
            not_but(text),
            self._value_was_wrong(text, requested, tracker),
            typed_as(text),  # "尾号是0002 我打成0001了"
            self._is_instead(text),  # "我说错 宏伟路是宏远路"
        ]
        for said in readings:
            if said is None:
                continue
            wrong, right = said
            # "不是晚上 是凌晨两三点" at the time question: a time answers it, even
            # when what happened says "晚上"; only an earlier answer of that kind
            # (a time) is corrected by it
            own = self.answers_own_question(requested, wrong, right)
            theirs = [
                slot
                for slot in self.order(tracker)
                if slot != requested and not (own and not self.reads_as(slot, right))
            ]
            for slot in theirs:
                value = self.plain(slot, tracker.get_slot(slot))
                if not isinstance(value, str) or wrong not in value:
                    continue
                return slot, _replaced(value, wrong, right)
            for slot in theirs:
                # "不是狗吠，是鸡叫" for "狗叫扰民": the wrong word said a little differently
                value = self.plain(slot, tracker.get_slot(slot))
                near = _near(value, wrong, right)
                if near is not None:
                    return slot, _replaced(value, near, right)
        mistaken, value = mistake_said(text)
        previous = self._previous(requested, tracker)
        if not mistaken and previous is not None:
            # "哦不对，是路灯不亮": a bare "no" names no answer; it replaces
            # the one just given when it is like it (路灯坏了) or has its shape
            instead = denied_then(text)
            earlier = self.plain(previous, tracker.get_slot(previous))
            if instead and (self.fits(previous, instead) or _alike(earlier, instead)):
                return previous, instead
            return None
        if any(said is not None for said in readings) or not mistaken or not value:
            return None
        if previous is None or asked_again(tracker, requested) or self.fits(requested, value):
            # "打错了，13812345678" after a malformed phone: this answer was wrong
            return requested, value
        return self._likely(requested, value, tracker, previous), value

    def _likely(self, requested: str, value: str, tracker: Tracker, previous: str) -> str:
        """The earlier answer a correction naming none replaces: the one it has
        the shape of (a phone number), else the one it is most like ("路灯倒了"
        for "路灯坏了"), else the one it reads as (a place, a time), else the
        one just given."""
        best, score = previous, 0
        for slot in reversed(self.order(tracker)):
            if slot == requested or tracker.get_slot(slot) is None:
                continue
            mark = 100 if self.fits(slot, value) else 0
            mark += 10 * _shared(self.plain(slot, tracker.get_slot(slot)), value)
            mark += self.reads_as(slot, value)
            if mark > score or (mark == score and slot == previous):
                best, score = slot, mark
        return best

    def answered_elsewhere(
        self, requested: str, text: str, tracker: Tracker
    ) -> tuple[str, str] | None:
        """(slot, value) when the message answers an earlier question instead
        of this one (a phone number given after all at the name question);
        subclasses say."""
        return None

    def reads_as(self, slot: str, value: str) -> int:
        """1 when ``value`` reads as an answer to ``slot`` (a place at the place
        question, a time at the time question); subclasses say."""
        return 0

    def answers_own_question(self, requested: str, wrong: str, right: str) -> bool:
        """True when "不是<wrong> 是<right>" answers the question asked itself
        (both times at the time question), whatever earlier answer also holds
        <wrong>; subclasses say."""
        return False

    def _back(
        self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        order = self.order(tracker)
        index = order.index(requested) if requested in order else 0
        if index == 0:
            dispatcher.utter_message(text="这已经是第一个问题了。")
            return {requested: None}
        previous = order[index - 1]
        dispatcher.utter_message(text=f"好的，回到上一步：{self.TITLES[previous]}。")
        return {previous: None, requested: None}
