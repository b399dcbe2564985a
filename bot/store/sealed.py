"""Shared-store values that carry a citizen's words, encrypted at rest.

The front door keeps a few values in the shared store (Redis in production)
that hold message text as typed, phone and ID numbers included:

- the hub's inbox entries (``inbox:<conversation>``, up to a day): the
  citizen's message waiting for whichever replica drains the conversation;
- the hub's results (``result:<channel>:<sender>:<id>``, an hour): the
  replies of one message, for the replica that waits for them, the later
  push and a replica that takes over after a crash;
- the REST channel's outbox (``rest:outbox:<sender>``, a day): messages
  pushed to a REST sender, returned on its next request.

They are encrypted rather than masked or deleted early, because each of them
must still give back the exact text: Rasa needs the raw words (it extracts
the phone and ID number for the ticket itself; its tracker store masks
them), and a reply must reach the citizen as it was written. Nor can they
go sooner than they do: an inbox entry already leaves the list as soon as
its result is stored, but until then it is the only copy a replica taking
over from a dead one has; a result is read by a waiter on any replica, and
no replica knows when the last of them has read it. So they keep their
TTLs and are unreadable without the data keys.

The cipher is the data key ring of the database (``HOTLINE_DATA_KEYS``,
bot/db/crypto.py): every replica already holds the same keys, and key
rotation works the same way. ``Cipher`` builds its Fernet keys once; a value
costs one AES-CBC and HMAC-SHA256 pass over a short text, with no key
derivation per message. Values written before this (plain JSON, from a
replica of an older version during a rolling upgrade) are still read.

The embedded single-machine store (``SharedStore.in_process``) keeps its
values in the process's memory only: nothing is at rest there, so the hub
uses :class:`InProcessValues`, which stores them as they are. Sealing cost
about half a millisecond of CPU per message (``make overhead``, fake Rasa
30 ms, three replies, 2026-12-04, each run paired against the commit before
issue 15: CPU per message with sealing on the in-process store REST 4.17 /
widget 5.48 ms against 3.18 / 4.17; without it 3.58 / 4.52 against 3.12 /
3.95), which one machine need not pay; with Redis it is the price of the
values being unreadable at rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.db.crypto import Cipher, DataKeyError

__all__ = ["DataKeyError", "InProcessValues", "Sealer", "ValueSealer"]

#: The start of a value stored in the clear by an older version (JSON).
_PLAIN_JSON = ("{", "[")


class ValueSealer(Protocol):
    """What the hub and the REST outbox use: :class:`Sealer` or :class:`InProcessValues`."""

    def seal(self, value: str) -> str: ...

    def unseal(self, value: str) -> str: ...


class Sealer:
    """Encrypts and decrypts store values with the data key ring.

    ``cipher`` is a :class:`Cipher` or a function returning one; the function
    is called once, at the first use (the database loads its keys lazily).
    """

    def __init__(self, cipher: Cipher | Callable[[], Cipher]) -> None:
        self._cipher = cipher if isinstance(cipher, Cipher) else None
        self._load = None if isinstance(cipher, Cipher) else cipher

    @property
    def cipher(self) -> Cipher:
        if self._cipher is None:
            assert self._load is not None
            self._cipher = self._load()
        return self._cipher

    def seal(self, value: str) -> str:
        """The value encrypted with the current key (a Fernet token, ASCII)."""
        sealed = self.cipher.encrypt(value)
        assert sealed is not None
        return sealed

    def unseal(self, value: str) -> str:
        """The value decrypted; raises :class:`DataKeyError` for a value that
        none of the keys opens. Plain JSON of an older version passes as is."""
        if value.startswith(_PLAIN_JSON):
            return value
        opened = self.cipher.decrypt(value)
        assert opened is not None
        return opened


class InProcessValues:
    """Values of a store that never leaves this process: kept as they are
    (the same ``seal``/``unseal`` as :class:`Sealer`)."""

    def seal(self, value: str) -> str:
        return value

    def unseal(self, value: str) -> str:
        return value
