"""Complaints and suggestions (投诉建议): collect, let the citizen correct, confirm.

The ticket itself is created by ``action_create_ticket`` (actions/tickets.py)
after the citizen confirms the summary.

The phone number crosses turns encrypted. Rasa reloads the tracker from its
store on every turn, and the store (hotline_rasa/tracker_store.py) masks
every plaintext number before it is written, so a plaintext slot would come
back as "138****5678" on the next turn, too late for the ticket. The form's
validation therefore stores ``contact_phone`` as ``enc:`` + a Fernet token
made with the key ring the ticket's own encrypted field uses
(``HOTLINE_DATA_KEYS``, bot.db.crypto); the store leaves such values alone,
the confirmation shows the number masked, and ``action_create_ticket``
decrypts it (:func:`phone_from_slot`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._forms import SKIP_WORDS, CitizenFormValidation, parse_correction
from actions._runtime import (
    EMERGENCY_TEXT,
    MENU_BUTTONS,
    data_cipher,
    faq_prediction,
    faq_sure_out_of_context,
    latest_intent,
    latest_text,
    record_event,
    sounds_like_danger,
    warn_if_danger,
    warned_in_form,
)
from actions.answers import (
    find_phone,
    leaving,
    names_place,
    names_time,
    plainly_answers,
    read_free,
    read_name,
    read_phone,
    tail_replaced,
    without_leading_fillers,
)
from actions.thresholds import COMPLAINT_FROM_ANSWER, COMPLAINT_OFFER
from bot.db.crypto import DataKeyError
from bot.db.routing import load_routing
from bot.dispatch.dispatcher import Dispatch, dispatch
from bot.knowledge import FaqEntry, format_answer, load_faq
from bot.privacy import ENCRYPTED_PREFIX, mask_phone

COMPLAINT_SLOTS = (
    "complaint_what",
    "complaint_where",
    "complaint_when",
    "contact_phone",
    "contact_name",
)
FIELD_TITLES = {
    "complaint_what": "诉求内容",
    "complaint_where": "地点",
    "complaint_when": "时间",
    "contact_phone": "联系电话",
    "contact_name": "称呼",
}
#: The words that name each answer, in the form's order (corrections, edits).
FIELD_WORDS = {
    "complaint_what": re.compile(r"内容|描述|事情|诉求|问题|情况|投诉的|反映的"),
    "complaint_where": re.compile(r"地点|地址|位置|地方|哪里|在哪|路名|门牌"),
    "complaint_when": re.compile(r"时间|日期|日子|什么时候|几点|哪天"),
    "contact_phone": re.compile(r"联系电话|联系方式|电话|手机号|手机|号码"),
    "contact_name": re.compile(r"名字|姓名|称呼|姓氏"),
}
ANONYMOUS = "匿名"
NOT_GIVEN = "未提供"
#: ``complaint_type`` of a complaint about the hotline's own service (its
#: agents, its phone line, this assistant): it goes to the hotline's own
#: supervisors (routing category ``hotline_service``), with no place asked.
SERVICE = "service"
SERVICE_CATEGORY = "hotline_service"
KIND_NAMES = {"complaint": "投诉", "suggestion": "建议", SERVICE: "对12345热线服务的投诉"}

_FILLER = re.compile(
    # "就是想投诉一下": wanting to complain says nothing of what happened
    r"(?:就是|只是|就)?(?:想|要)(?=投诉|举报|反映|建议|提)"
    r"|我(要|想)?|投诉|举报|反映|建议|一下|一个|问题|意见|提|有|个|的|了|[,,。.!!??\s]"
    r"|你好|您好|谢谢|在吗|请问|hello|hi"
)

MAX_TEXT = 1000
#: The parse key of a message Rasa's complaint arbiter turned into a complaint
#: (hotline_rasa/complaint_arbiter.py ARBITER_KEY; the environments share no code).
ARBITER_KEY = "complaint_arbiter"
#: Every parse's ``{"p": P(complaint)}`` (hotline_rasa/complaint_arbiter.py COMPLAINT_KEY).
COMPLAINT_KEY = "complaint"
#: "不登记了", "唔登记喇": the registration itself is given up.
_NOT_REGISTERING = re.compile(
    r"^(?:那|那就|我|我就|还是|先|算了)*(?:不|不想|不要|不用|懒得)(?:再)?(?:登记|记录|提交)"
    r"(?:了|啦|咯|喇|嘞|住)[了啊呀吧哦嘛呢啦哈喇嘞咯噃]*$"
)
#: A name said as one: "叫我阿强", "我姓李", "王先生".
_SAID_AS_NAME = re.compile(
    r"叫我|我叫|我是|称呼我|姓|先生|女士|小姐|太太|师傅|阿姨|老师|^[\u4e00-\u9fff]生$"
)


def normalise_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or a landline with area code, digits only
    (also said in Chinese digits: "一三八…")."""
    return find_phone(text)


def seal_phone(phone: str) -> str:
    """The slot value of a validated phone number: ``enc:`` + a Fernet token."""
    return ENCRYPTED_PREFIX + (data_cipher().encrypt(phone) or "")


def phone_from_slot(value: Any) -> str | None:
    """The plaintext phone (or "匿名") behind a ``contact_phone`` slot value.

    A value without the ``enc:`` prefix is returned as it is: "匿名", or a
    tracker saved before the phone was encrypted. A value the configured keys
    cannot open raises ``bot.db.crypto.DataKeyError``.
    """
    if value is None:
        return None
    text = str(value)
    if text.startswith(ENCRYPTED_PREFIX):
        return data_cipher().decrypt(text[len(ENCRYPTED_PREFIX) :])
    return text


def shown_phone(value: Any) -> str | None:
    """A ``contact_phone`` slot value as the citizen and agents see it: masked."""
    phone = phone_from_slot(value)
    return phone if phone in (None, ANONYMOUS) else mask_phone(phone)


def is_descriptive(text: str) -> bool:
    """True when an opening message already says what happened
    ("楼下工地半夜施工太吵"), not just "我要投诉"."""
    return len(_FILLER.sub("", text)) >= 4 and not text.startswith("/")


def _clear_complaint() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in (*COMPLAINT_SLOTS, "complaint_type")] + [
        SlotSet("complaint_submission_id", None)
    ]


class ActionStartComplaint(Action):
    """Begin a complaint or suggestion with a fresh submission id (the
    idempotency key of the ticket) and whatever the opening message said.

    A complaint about the hotline's own service (``record_service_complaint``)
    takes what happened from the citizen's upset message that led to it, and
    asks no place: it goes to the hotline's supervisors, not to a bureau.
    """

    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # "楼下有人打架 我要投诉": 110 first, then the complaint is registered
        warn_if_danger(dispatcher, tracker)
        intent = latest_intent(tracker)
        kind = {"suggest": "suggestion", "record_service_complaint": SERVICE}.get(
            intent, "complaint"
        )
        text = latest_text(tracker)
        if text.startswith("/"):
            # a button: after "登记投诉，交部门处理" under an FAQ answer, what
            # happened is the message the answer was for
            text = _offered_for(tracker)
        events = [SlotSet(slot, None) for slot in COMPLAINT_SLOTS] + [
            SlotSet("complaint_type", kind),
            SlotSet("complaint_submission_id", uuid.uuid4().hex),
        ]
        if kind == "suggestion":
            events.append(SlotSet("complaint_when", NOT_GIVEN))
        if kind == SERVICE:
            events.append(SlotSet("complaint_where", NOT_GIVEN))
            text = text if is_descriptive(text) else _recent_upset_text(tracker)
        if is_descriptive(text):
            events.append(SlotSet("complaint_what", text[:MAX_TEXT]))
        if kind == SERVICE:
            dispatcher.utter_message(
                text="非常抱歉给您带来不好的体验。我来帮您登记对12345热线服务的投诉，"
                "会直接交给热线的服务监督组核查处理并回复您。需要了解几项信息，"
                "随时回复“取消”可以退出；想马上和人工客服沟通，请点“转人工客服”。",
                buttons=[{"title": "转人工客服", "payload": "/request_human"}],
            )
            return events
        if kind == "suggestion":
            intro = "好的，我来帮您登记建议。"
        elif rules := _rules_of_the_subject(tracker):
            # A problem on an FAQ entry's very subject ("厂里拖欠我两个月工资",
            # the retriever sure of the wage-arrears entry; Rasa's complaint
            # arbiter, sure_faq_threshold): the rules first, so a citizen who
            # only wanted them has them and needs not ask again (the same
            # words would start the complaint again), then the registration.
            dispatcher.utter_message(text=format_answer(rules))
            await record_event("faq_answered", tracker, faq=rules.id)
            intro = (
                "您说的情况，我可以帮您登记投诉，交承办部门处理。"
                "只想了解上面的规定的话，回复“取消”就可以。"
            )
        elif (tracker.latest_message or {}).get(ARBITER_KEY) or intent == "inform":
            # The citizen told of a problem without saying "投诉" (Rasa's
            # complaint arbiter, hotline_rasa/complaint_arbiter.py): say what
            # was understood, and how to leave if it was only a question.
            intro = (
                "听起来您是要反映一个问题，我来帮您登记投诉，交承办部门处理。"
                "只是想咨询的话，回复“取消”再直接提问就可以。"
            )
        else:
            intro = "好的，我来帮您登记投诉。"
        dispatcher.utter_message(text=intro + "需要了解几项信息，随时回复“取消”可以退出。")
        return events


def _rules_of_the_subject(tracker: Tracker) -> FaqEntry | None:
    """The FAQ entry a complaint is about when Rasa's complaint arbiter made it
    so from an FAQ guess the retriever was sure of (>= FAQ_SURE_OUT_OF_CONTEXT,
    the arbiter's faq_sure_confidence), else None."""
    latest = tracker.latest_message or {}
    if (latest.get(ARBITER_KEY) or {}).get("from") != "faq":
        return None
    if not faq_sure_out_of_context(latest):
        return None
    faq_id, _ = faq_prediction(latest)
    return load_faq().get(faq_id or "")


#: The button an FAQ answer offers when the message also told of a problem.
COMPLAINT_BUTTON = {"title": "登记投诉，交部门处理", "payload": "/complain"}


def complaint_offer(tracker: Tracker) -> dict[str, str] | None:
    """The "register a complaint" button for an FAQ answer to a message that
    tells of a problem (P(complaint) >= COMPLAINT_OFFER), else None."""
    p = ((tracker.latest_message or {}).get(COMPLAINT_KEY) or {}).get("p")
    return COMPLAINT_BUTTON if isinstance(p, (int, float)) and p >= COMPLAINT_OFFER else None


def told_a_problem(tracker: Tracker) -> bool:
    """True when the latest message, read as a form's answer (``inform``) with
    no form running, tells of a problem: Rasa's complaint arbiter gave it
    P(complaint) >= COMPLAINT_FROM_ANSWER (the parse's ``complaint.p``)."""
    if latest_intent(tracker) != "inform" or (tracker.active_loop or {}).get("name"):
        return False
    p = ((tracker.latest_message or {}).get(COMPLAINT_KEY) or {}).get("p")
    return isinstance(p, (int, float)) and p >= COMPLAINT_FROM_ANSWER


def _offered_for(tracker: Tracker) -> str:
    """The citizen's message before the latest one when it told of a problem
    (its parse's P(complaint) >= COMPLAINT_OFFER: the FAQ answer to it offered
    the complaint), else "" (the menu's 投诉建议 after any question)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return ""
    previous = users[-2]
    p = ((previous.get("parse_data") or {}).get(COMPLAINT_KEY) or {}).get("p")
    text = str(previous.get("text") or "").strip()
    if not isinstance(p, (int, float)) or p < COMPLAINT_OFFER or text.startswith("/"):
        return ""
    return text


def _recent_upset_text(tracker: Tracker, turns: int = 4) -> str:
    """The citizen's latest message about the hotline's service (the one that
    got the apology), if it was among their last few."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        seen += 1
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = str(event.get("text") or "")
        if intent in ("complain_service", "angry") and not text.startswith("/"):
            return text.strip()
        if seen >= turns:
            break
    return ""


class ValidateComplaintForm(CitizenFormValidation):
    """Check each answer; a bad phone number is asked again, 'anonymous' is allowed.

    Every question also takes "不知道"/"跳过", "上一步" and corrections of an
    earlier answer (actions/_forms.py).
    """

    FIELDS = FIELD_WORDS
    TITLES = FIELD_TITLES

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Nothing to ask when no complaint is being written ("上一步" or
        # "修改地址" with nothing pending): the form ends at once.
        if tracker.get_slot("complaint_submission_id") is None:
            return []
        return domain_slots

    def not_asked(self, tracker: Tracker) -> set[str]:
        return not_asked(tracker)

    def shown(self, slot: str, value: Any) -> str:
        return str(shown_phone(value) if slot == "contact_phone" else value)

    async def skip(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if slot == "complaint_what":
            dispatcher.utter_message(
                text="需要您简单说一下发生了什么，一两句话就可以，例如“小区门口的路灯坏了一个月”。"
                "不方便打字的话，可以转人工客服。",
                buttons=[
                    {"title": "转人工客服", "payload": "/request_human"},
                    {"title": "取消", "payload": "/stop"},
                ],
            )
            return {slot: None}
        if slot == "contact_phone":
            dispatcher.utter_message(
                text="好的，不留电话。匿名诉求无法电话回访，也无法用手机尾号查询进度，请保存好工单编号。"
            )
            return {slot: ANONYMOUS}
        return {slot: NOT_GIVEN}

    def reads_itself(self, slot: str) -> bool:
        return slot in COMPLAINT_SLOTS

    def refusable(self, slot: str) -> bool:
        return slot != "complaint_what"

    def leaves(self, slot: str, text: str) -> Literal["cancel", "human"] | None:
        # "算喇 唔登记喇": giving up the registration (at the phone or the name,
        # "不登记了" refuses that answer instead)
        gives_up = None if slot in ("contact_phone", "contact_name") else _NOT_REGISTERING
        return leaving(text, refusable=self.refusable(slot), gives_up=gives_up)

    def answers(self, slot: str, text: str) -> bool:
        if super().answers(slot, text):
            return True
        if slot == "contact_phone":
            return read_phone(text).kind != "empty"  # a number, "不想留", "别匿名"
        if slot == "contact_name":
            reading = read_name(text)
            # a refusal ("算了 不用称呼"), or a name said as one ("叫我阿强")
            return reading.kind == "refuse" or (
                reading.kind == "value" and bool(_SAID_AS_NAME.search(text))
            )
        kind = {"complaint_what": "what", "complaint_where": "where"}.get(slot, "when")
        return plainly_answers(text, kind)  # type: ignore[arg-type]

    def fits(self, slot: str, value: str) -> bool:
        return slot == "contact_phone" and normalise_phone(value) is not None

    def plain(self, slot: str, value: Any) -> Any:
        if slot != "contact_phone":
            return value
        try:
            return phone_from_slot(value)
        except DataKeyError:
            return value

    def corrected(self, slot: str, value: str, earlier: Any = None) -> dict[str, Any] | None:
        # "不是狗叫，是鸡叫": a corrected what happened names the thing itself; the
        # four-character minimum of a first description does not apply to it.
        if slot == "complaint_what" and read_free(value, "what").kind == "value":
            if len(_FILLER.sub("", value)) >= 2:
                return {slot: value[:MAX_TEXT]}
        if slot == "contact_phone" and normalise_phone(value) is None and isinstance(earlier, str):
            # "电话最后两位是79": the digits said replace the end of the number given
            phone = tail_replaced(earlier, value, 4)
            if phone is not None and normalise_phone(phone):
                return {slot: seal_phone(phone)}
        return None

    def answered_elsewhere(
        self, requested: str, text: str, tracker: Tracker
    ) -> tuple[str, str] | None:
        # "我改主意了 还是留个电话 13688889999" at the name question after "匿名"
        if requested != "contact_name" or find_phone(text) is None:
            return None
        if read_name(text).kind == "value":
            return None  # "我姓王 电话13800000000": the name asked for comes first
        if tracker.get_slot("contact_phone") == ANONYMOUS or FIELD_WORDS["contact_phone"].search(
            text
        ):
            return "contact_phone", text
        return None

    def answers_own_question(self, requested: str, wrong: str, right: str) -> bool:
        # "不是晚上 是凌晨两三点" at the time question, what happened saying "晚上很黑"
        return requested == "complaint_when" and names_time(wrong) and names_time(right)

    def reads_as(self, slot: str, value: str) -> int:
        timed = names_time(value)
        if slot == "complaint_when":
            return int(timed)
        if slot == "complaint_where":
            return int(names_place(value) and not timed)
        return 0

    async def validate_complaint_what(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = without_leading_fillers(str(value or "").strip())
        # a description said now was heard by the form's own net
        # (CitizenFormValidation.get_validation_events); one the form took from
        # an earlier message: its words, unless the numbers were said already
        said_now = text == without_leading_fillers(latest_text(tracker))
        if (
            not said_now
            and sounds_like_danger(text)
            and not warned_in_form(tracker, self.form_name())
            and not any(m.get("text") == EMERGENCY_TEXT for m in dispatcher.messages)
        ):
            # "楼下有人打架" told as what happened: 110 first, the form goes on
            dispatcher.utter_message(text=EMERGENCY_TEXT)
        reading = read_free(text, "what")
        if reading.kind == "unknown":
            return await self.skip("complaint_what", dispatcher, tracker)
        if reading.kind != "value" or len(_FILLER.sub("", text)) < 2:
            dispatcher.utter_message(
                text="请再具体描述一下发生了什么，方便承办部门处理，例如“小区门口的路灯坏了一个月”。"
            )
            return {"complaint_what": None}
        return {"complaint_what": text[:MAX_TEXT]}

    async def validate_complaint_where(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ask = (
            "请告诉我事情发生的地点，例如“南城街道鸿福路和元美路交叉口”；"
            "不清楚的话可以回复“不清楚”。"
        )
        return _free_answer(value, dispatcher, "complaint_where", "where", ask, 200)

    async def validate_complaint_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ask = (
            "请告诉我大概是什么时候发生的，例如“昨晚十一点”或“最近一个月每天晚上”；"
            "记不清的话可以回复“不清楚”。"
        )
        return _free_answer(value, dispatcher, "complaint_when", "when", ask, 100)

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if text.startswith(ENCRYPTED_PREFIX):
            # Already validated and sealed: Rasa validates prefilled slots again
            # when the form comes back after an edit. Keep it if it opens.
            try:
                if normalise_phone(phone_from_slot(text) or ""):
                    return {"contact_phone": text}
            except DataKeyError:
                pass
        if text == ANONYMOUS:
            # "匿名" as the question offers it (or the value validated before an
            # edit): no phone, and no name either unless one was given already.
            named = tracker.get_slot("contact_name") is not None
            return {"contact_phone": ANONYMOUS} | ({} if named else {"contact_name": ANONYMOUS})
        reading = read_phone(text)
        if reading.kind == "value" and reading.value:
            return {"contact_phone": seal_phone(reading.value)}
        if reading.kind == "refuse":
            dispatcher.utter_message(
                text="好的，不留电话，按匿名登记。匿名诉求无法电话回访，也无法用手机尾号查询进度，"
                "请保存好工单编号。"
            )
            return {"contact_phone": ANONYMOUS, "contact_name": ANONYMOUS}
        if reading.kind == "give":
            dispatcher.utter_message(
                text="好的，不匿名。请告诉我您的联系电话：11位手机号（如13812345678）或带区号的固定电话。"
            )
        elif re.search(r"\d", text):
            dispatcher.utter_message(
                text="号码格式好像不对。请输入11位手机号（如13812345678）或带区号的固定电话，"
                "不想留电话请回复“匿名”。"
            )
        else:
            dispatcher.utter_message(
                text="请告诉我您的联系电话：11位手机号或带区号的固定电话，方便承办部门回复您；"
                "不想留电话请回复“匿名”。"
            )
        return {"contact_phone": None}

    async def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or text == ANONYMOUS:
            return {"contact_name": ANONYMOUS}
        if SKIP_WORDS.match(text):
            return {"contact_name": NOT_GIVEN}  # "跳过", "不知道": not given, as before
        reading = read_name(text)
        if reading.kind == "refuse":
            return {"contact_name": ANONYMOUS}
        if reading.kind != "value" or not reading.value:
            dispatcher.utter_message(
                text="请问怎么称呼您？例如“陈先生”“李女士”；不想留名字可以回复“不留”。"
            )
            return {"contact_name": None}
        return {"contact_name": reading.value[:20]}


def not_asked(tracker: Tracker) -> set[str]:
    """The questions this kind of submission never asks (and never sends)."""
    kind = tracker.get_slot("complaint_type")
    if kind == "suggestion":
        return {"complaint_when"}
    if kind == SERVICE:
        return {"complaint_where"}
    return set()


def destination(tracker: Tracker) -> Dispatch:
    """Where the ticket will go (category, town, route): the one choice both the
    summary and ``action_create_ticket`` use. A complaint about the hotline's
    own service goes to its supervisors; the rest is the dispatch rules' choice
    (bot/dispatch) from what happened and where."""
    routing = load_routing()
    kind = str(tracker.get_slot("complaint_type") or "complaint")
    if kind == SERVICE:
        return Dispatch(SERVICE_CATEGORY, None, None, False, routing.route(SERVICE_CATEGORY))
    where = tracker.get_slot("complaint_where")
    return dispatch(
        routing,
        str(tracker.get_slot("complaint_what") or ""),
        None if where in (None, NOT_GIVEN) else str(where),
        kind="suggestion" if kind == "suggestion" else "complaint",
    )


def complaint_summary(tracker: Tracker) -> str:
    """Exactly what will be sent: every field the ticket gets (the phone masked
    on screen, sent in full), the contact choice and where it goes."""
    kind = KIND_NAMES.get(str(tracker.get_slot("complaint_type")), "投诉")
    lines = [f"请确认您的{kind}信息（确认后将按以下内容提交）："]
    skipped = not_asked(tracker)
    for slot in COMPLAINT_SLOTS:
        if slot in skipped:
            continue
        value = tracker.get_slot(slot)
        if slot == "contact_phone":
            phone = shown_phone(value)
            value = "匿名（不回访，无法凭手机尾号查询）" if phone in (None, ANONYMOUS) else phone
        lines.append(f"· {FIELD_TITLES[slot]}：{value or NOT_GIVEN}")
    sent = destination(tracker)
    name = load_routing().category_name(sent.category)
    lines.append(f"· 转交：{sent.route.department_name}（{name}）")
    lines.append("信息无误请点“确认提交”，需要修改请选择要改的项，也可以直接说“地址说错了，是……”。")
    return "\n".join(lines)


def edit_buttons(tracker: Tracker) -> list[dict[str, str]]:
    skipped = not_asked(tracker)
    return [
        {"title": f"修改{FIELD_TITLES[s]}", "payload": f'/edit_complaint{{"field":"{s}"}}'}
        for s in COMPLAINT_SLOTS
        if s not in skipped
    ]


class ActionComplaintSummary(Action):
    """Show every answer once more before anything is submitted."""

    def name(self) -> str:
        return "action_complaint_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("complaint_submission_id") is None:
            return []  # nothing pending: action_edit_complaint said so already
        buttons = [{"title": "确认提交", "payload": "/affirm"}, *edit_buttons(tracker)]
        buttons.append({"title": "取消", "payload": "/stop"})
        dispatcher.utter_message(text=complaint_summary(tracker), buttons=buttons)
        return []


def field_to_edit(tracker: Tracker) -> str | None:
    field = tracker.get_slot("edit_field")
    if field in COMPLAINT_SLOTS:
        return str(field)
    text = latest_text(tracker)
    return next((slot for slot, words in FIELD_WORDS.items() if words.search(text)), None)


class ActionEditComplaint(Action):
    """Change one answer after the summary: with the new value in the message
    ("地址说错了，是东城街道…") it is replaced at once (the form then shows the
    summary again); otherwise it is cleared so the form asks it again.
    "上一步" after the summary goes back to the last question asked."""

    def name(self) -> str:
        return "action_edit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("complaint_submission_id") is None:
            if faq_sure_out_of_context(tracker.latest_message or {}):
                # a question DIET read as a change ("户口本上我生日写错了 可以改吗"),
                # the FAQ retriever sure of its entry: answer it here (a
                # followup action would leave the policies without a next step)
                from actions.faq import ActionAnswerFaq  # faq.py imports this module

                events = await ActionAnswerFaq().run(dispatcher, tracker, domain)
                return [SlotSet("edit_field", None), *events]
            dispatcher.utter_message(text="目前没有正在填写的投诉或建议。", buttons=MENU_BUTTONS)
            return [SlotSet("edit_field", None)]
        intent = latest_intent(tracker)
        asked = [s for s in COMPLAINT_SLOTS if s not in not_asked(tracker)]
        field: str | None
        if intent == "go_back":
            last = asked[-1]
            if tracker.get_slot("contact_name") == ANONYMOUS and (
                tracker.get_slot("contact_phone") == ANONYMOUS
            ):
                last = "contact_phone"  # "匿名" answered both questions at once
            dispatcher.utter_message(text=f"好的，回到上一步：{FIELD_TITLES[last]}。")
            field = last
        else:
            field = field_to_edit(tracker)
        if intent == "deny" or field is None or field not in asked:
            dispatcher.utter_message(text="请选择要修改的内容：", buttons=edit_buttons(tracker))
            return [SlotSet("edit_field", None)]
        events = [SlotSet("edit_field", None), SlotSet(field, None)]
        correction = parse_correction(latest_text(tracker), FIELD_WORDS)
        if intent != "go_back" and correction is not None and correction[0] == field:
            value = correction[1]
            if value is not None and field == "contact_phone":
                phone = normalise_phone(value)
                value = seal_phone(phone) if phone else None
            if value is not None:
                # The form validates it again as it comes back, then shows the summary.
                events = [SlotSet("edit_field", None), SlotSet(field, value[:MAX_TEXT])]
        if field == "contact_phone" and tracker.get_slot("contact_name") == ANONYMOUS:
            events.append(SlotSet("contact_name", None))
        return events


class ActionCancelProcess(Action):
    """The citizen changed their mind: leave any form, keep nothing half-done."""

    def name(self) -> str:
        return "action_cancel_process"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        refused = refusal_of_the_question(tracker)
        if refused is not None:
            # "名字就别登记了" read as "stop": the question is refused, not the complaint
            if refused.get("contact_phone") == ANONYMOUS:
                dispatcher.utter_message(
                    text="好的，不留电话，按匿名登记。匿名诉求无法电话回访，也无法用手机尾号查询进度，"
                    "请保存好工单编号。"
                )
            return [SlotSet(slot, value) for slot, value in refused.items()] + [
                FollowupAction("complaint_form")
            ]
        in_complaint = tracker.get_slot("complaint_submission_id") is not None
        text = "好的，已取消本次登记，没有生成工单。" if in_complaint else "好的，已取消。"
        dispatcher.utter_message(text=text + "还有什么可以帮您？", buttons=MENU_BUTTONS)
        events: list[dict[str, Any]] = _clear_complaint() + [
            SlotSet("service", None),
            SlotSet("service_mode", None),
            SlotSet("ticket_no", None),
            SlotSet("ticket_phone_last4", None),
            SlotSet("requested_slot", None),
        ]
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return events


def refusal_of_the_question(tracker: Tracker) -> dict[str, Any] | None:
    """Slot values when a message the NLU took for "stop" refuses only the
    contact question asked, naming it ("名字就别登记了", "称呼就不用了", "电话就算了");
    None for anything else (a real "算了，不投诉了" cancels)."""
    requested = tracker.get_slot("requested_slot")
    if tracker.active_loop_name != "complaint_form" or requested not in (
        "contact_phone",
        "contact_name",
    ):
        return None
    text = latest_text(tracker)
    if leaving(text) is not None or not FIELD_WORDS[requested].search(text):
        return None
    if requested == "contact_name" and read_name(text).kind == "refuse":
        return {"contact_name": ANONYMOUS}
    if requested == "contact_phone" and read_phone(text).kind == "refuse":
        named = tracker.get_slot("contact_name") is not None
        return {"contact_phone": ANONYMOUS} | ({} if named else {"contact_name": ANONYMOUS})
    return None


#: "不需要了" alone, at a question that may be skipped (place, time).
_DECLINED = re.compile(r"(?:那|那就|哦)?(?:不用|不需要|不必|没必要)(?:了|啦|咯)?[吧啊呀哦]*")


def _free_answer(
    value: Any,
    dispatcher: CollectingDispatcher,
    slot: str,
    kind: Literal["where", "when"],
    ask: str,
    limit: int,
) -> dict[str, Any]:
    """A free-text answer (where, when): the place or time kept (at most
    ``limit`` characters), "don't know" kept as 未提供, nothing usable asked again."""
    if _DECLINED.fullmatch(str(value or "").strip()):
        return {slot: NOT_GIVEN}  # "不需要了": this question is declined
    reading = read_free(str(value or ""), kind)
    if reading.kind == "empty":
        dispatcher.utter_message(text=ask)
        return {slot: None}
    if reading.kind != "value" or not reading.value:
        return {slot: NOT_GIVEN}
    return {slot: reading.value[:limit]}
