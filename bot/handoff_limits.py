"""How often one citizen, or one network address, may ask for a person.

A handoff request puts a conversation in the agents' queue; a flood of fake
ones (one script opening widget sessions in a loop) would push genuine
citizens back and bury the console. Each request therefore counts against
two allowances in the shared store, so the limits hold across replicas:

- the sender (the conversation: channel and channel user), at most
  ``HANDOFF_MAX_PER_SENDER`` requests per ``HANDOFF_RATE_WINDOW``;
- the client address where the channel knows it (the widget; WeChat and
  Telegram have none, their senders are accounts), at most
  ``HANDOFF_MAX_PER_ADDRESS`` per window. IPv6 addresses count per /64
  network (bot/netaddr.py): one line usually holds a whole /64.

Windows are fixed slots of the injectable clock (``floor(now / window)``);
a counter lives two windows in the store. Around a slot's end a sender or an
address may thus get up to twice its allowance in a short time (the last
requests of one slot and the first of the next): one atomic INCR per request
buys that, and the queue stays fair (a sliding window would need a sorted set
per sender and address). Over either allowance the request
is refused with a clear Chinese reply (try again in a few minutes, or
register a callback); the message itself is in the transcript like any other.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.messages import Button, InboundMessage, OutboundMessage
from bot.netaddr import address_key
from bot.store.base import SharedStore

#: The front door's "register a callback" button (bot.console.texts.CALLBACK_BUTTON;
#: repeated here because the hub does not import the console).
CALLBACK_BUTTON = Button("登记回电", "/handoff_callback")
EMERGENCY_ADVICE = "如遇危险请立即拨打110（报警）、119（火警）或120（急救）。"


@dataclass(frozen=True)
class Refusal:
    """A request over an allowance: whose (``sender`` or ``address``), and for how long."""

    by: str
    minutes: int

    def message(self, emergency: bool = False) -> OutboundMessage:
        """What the citizen is told (a system message with the callback button).

        It follows the assistant's "transferring you" line of the same turn.
        """
        who = "您" if self.by == "sender" else "您所在的网络"
        text = (
            f"抱歉，{who}在短时间内转人工的次数较多，为保证排队公平，本次暂时无法为您转接。"
            f"您的请求已记录，请约 {self.minutes} 分钟后再试；也可以点击“登记回电”，"
            "客服会在服务时间内给您回电，或继续向智能助手咨询。"
        )
        if emergency:
            text = EMERGENCY_ADVICE + text
        return OutboundMessage(text=text, buttons=(CALLBACK_BUTTON,), sender="system")


@dataclass
class HandoffLimiter:
    store: SharedStore
    window: float = 600.0
    per_sender: int = 3
    per_address: int = 10
    clock: Callable[[], float] = field(default=time.time)

    async def refuse(self, msg: InboundMessage) -> Refusal | None:
        """Count this request; a refusal when it is over the sender's or the address's allowance."""
        now = self.clock()
        slot = math.floor(now / self.window)
        ttl = 2 * self.window
        minutes = max(1, math.ceil(((slot + 1) * self.window - now) / 60))
        sent = await self.store.incr(f"handoff:rate:s:{msg.conversation_id}:{slot}", ttl)
        if sent > self.per_sender:
            return Refusal("sender", minutes)
        address = address_key(msg.client_address)
        if address is not None:
            if await self.store.incr(f"handoff:rate:a:{address}:{slot}", ttl) > self.per_address:
                return Refusal("address", minutes)
        return None
