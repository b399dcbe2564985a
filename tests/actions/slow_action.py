"""An action that takes as many seconds as the citizen's text says (the action
server's shutdown tests: a request in flight when SIGTERM arrives)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionSlow(Action):
    def name(self) -> str:
        return "action_slow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await asyncio.sleep(float(tracker.latest_message.get("text") or 0))
        dispatcher.utter_message(text="好了")
        return []
