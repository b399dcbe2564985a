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
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._runtime import MENU_BUTTONS, data_cipher, latest_intent, latest_text
from bot.db.crypto import DataKeyError
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
ANONYMOUS = "匿名"
NOT_GIVEN = "未提供"

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
_ANONYMOUS = re.compile(r"匿名|不留|不想留|不方便留|保密|不给")
_NONE = re.compile(r"^(无|没有|不知道|不清楚|不记得|忘了|说不清)[。.!!]*$")
_FILLER = re.compile(
    r"我(要|想)?|投诉|举报|反映|建议|一下|一个|问题|意见|提|有|个|的|了|[,,。.!!??\s]"
)

MAX_TEXT = 1000


def normalise_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or a landline with area code, digits only."""
    digits = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    mobile = _MOBILE.search(digits)
    if mobile:
        return "".join(mobile.groups())
    landline = _LANDLINE.search(digits)
    if landline:
        return "".join(landline.groups())
    return None


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
    idempotency key of the ticket) and whatever the opening message said."""

    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kind = "suggestion" if latest_intent(tracker) == "suggest" else "complaint"
        text = latest_text(tracker)
        events = [SlotSet(slot, None) for slot in COMPLAINT_SLOTS] + [
            SlotSet("complaint_type", kind),
            SlotSet("complaint_submission_id", uuid.uuid4().hex),
        ]
        if kind == "suggestion":
            events.append(SlotSet("complaint_when", NOT_GIVEN))
        if is_descriptive(text):
            events.append(SlotSet("complaint_what", text[:MAX_TEXT]))
        intro = "好的，我来帮您登记建议。" if kind == "suggestion" else "好的，我来帮您登记投诉。"
        dispatcher.utter_message(text=intro + "需要了解几项信息，随时回复“取消”可以退出。")
        return events


class ValidateComplaintForm(FormValidationAction):
    """Check each answer; a bad phone number is asked again, 'anonymous' is allowed."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def validate_complaint_what(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 4:
            dispatcher.utter_message(text="请再具体描述一下发生了什么，方便承办部门处理。")
            return {"complaint_what": None}
        return {"complaint_what": text[:MAX_TEXT]}

    async def validate_complaint_where(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"complaint_where": NOT_GIVEN if not text or _NONE.match(text) else text[:200]}

    async def validate_complaint_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"complaint_when": NOT_GIVEN if not text or _NONE.match(text) else text[:100]}

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
        phone = normalise_phone(text)
        if phone:
            return {"contact_phone": seal_phone(phone)}
        if _ANONYMOUS.search(text):
            return {"contact_phone": ANONYMOUS, "contact_name": ANONYMOUS}
        dispatcher.utter_message(
            text="号码格式好像不对。请输入11位手机号（如13812345678）或带区号的固定电话，"
            "不想留电话请回复“匿名”。"
        )
        return {"contact_phone": None}

    async def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or _ANONYMOUS.search(text):
            return {"contact_name": ANONYMOUS}
        return {"contact_name": text[:20]}


def complaint_summary(tracker: Tracker) -> str:
    kind = "建议" if tracker.get_slot("complaint_type") == "suggestion" else "投诉"
    lines = [f"请确认您的{kind}信息："]
    for slot in COMPLAINT_SLOTS:
        value = tracker.get_slot(slot)
        if slot == "complaint_when" and kind == "建议":
            continue
        if slot == "contact_phone":
            value = shown_phone(value)
        lines.append(f"· {FIELD_TITLES[slot]}：{value or NOT_GIVEN}")
    lines.append("信息无误请点“确认提交”，需要修改请选择要改的项。")
    return "\n".join(lines)


def edit_buttons(tracker: Tracker) -> list[dict[str, str]]:
    fields = [
        s
        for s in COMPLAINT_SLOTS
        if not (s == "complaint_when" and tracker.get_slot("complaint_type") == "suggestion")
    ]
    return [
        {"title": f"修改{FIELD_TITLES[s]}", "payload": f'/edit_complaint{{"field":"{s}"}}'}
        for s in fields
    ]


class ActionComplaintSummary(Action):
    """Show every answer once more before anything is submitted."""

    def name(self) -> str:
        return "action_complaint_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        buttons = [{"title": "确认提交", "payload": "/affirm"}, *edit_buttons(tracker)]
        buttons.append({"title": "取消", "payload": "/stop"})
        dispatcher.utter_message(text=complaint_summary(tracker), buttons=buttons)
        return []


_FIELD_WORDS = (
    ("contact_phone", re.compile(r"电话|手机|号码")),
    ("contact_name", re.compile(r"名字|姓名|称呼|姓")),
    ("complaint_where", re.compile(r"地点|地址|位置|哪里|在哪")),
    ("complaint_when", re.compile(r"时间|日期|什么时候|几点")),
    ("complaint_what", re.compile(r"内容|描述|事情|问题|诉求")),
)


def field_to_edit(tracker: Tracker) -> str | None:
    field = tracker.get_slot("edit_field")
    if field in COMPLAINT_SLOTS:
        return str(field)
    text = latest_text(tracker)
    return next((slot for slot, words in _FIELD_WORDS if words.search(text)), None)


class ActionEditComplaint(Action):
    """Clear the answer the citizen wants to change so the form asks it again."""

    def name(self) -> str:
        return "action_edit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("complaint_submission_id") is None:
            dispatcher.utter_message(text="目前没有正在填写的投诉或建议。", buttons=MENU_BUTTONS)
            return [SlotSet("edit_field", None)]
        field = field_to_edit(tracker)
        if latest_intent(tracker) == "deny" or field is None:
            dispatcher.utter_message(text="请选择要修改的内容：", buttons=edit_buttons(tracker))
            return [SlotSet("edit_field", None)]
        events = [SlotSet("edit_field", None), SlotSet(field, None)]
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
