"""Channel set-up commands: ``python -m bot.channels_admin wechat-menu``.

``wechat-menu [--file PATH] [--dry-run]`` creates the Official Account's
custom menu (政策咨询 / 办事指南 / 投诉建议 / 查询工单 / 人工客服, from
channels/wechat/menu.yml) through WeChat's ``/cgi-bin/menu/create``. The
menu is checked first (WeChat's limits, and every click key must be one the
channel maps to a payload); ``--dry-run`` prints the request body and sends
nothing. Uses ``WECHAT_APP_ID``, ``WECHAT_APP_SECRET``,
``WECHAT_API_BASE_URL`` and ``REDIS_URL`` like the front door: with Redis the
access token is the one the running replicas share (fetching a new one
would invalidate theirs). Exit status 0 when WeChat took the menu, 1 on a
bad menu file or settings, 2 when WeChat refused it (its errcode is shown).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings
from bot.inbound import ChannelStore
from bot.store import SharedStore, make_store
from bot.store.sealed import InProcessValues
from channels.wechat import MENU_FILE, MenuError, WeChatApi, load_menu

#: What WeChat's menu/create errcodes mean, for the operator.
MENU_ERRORS = {
    40016: "too many or too few top-level buttons (1 to 3)",
    40017: "a button has an unknown type or a bad url",
    40018: "a button name is too long",
    40019: "a click key is too long",
    40023: "a sub-menu has too many or too few buttons (1 to 5)",
    48001: "the account is not allowed to use the menu API (not verified?)",
}


async def create_menu(
    settings: Settings, menu: dict[str, Any], store: SharedStore | None = None
) -> tuple[int, str]:
    """Send ``menu``; (errcode, reason): (0, "ok") when WeChat took it. ``store``:
    where the access token is shared (default: the configured store)."""
    own = store is None
    shared = make_store(settings) if store is None else store
    api = WeChatApi(settings, ChannelStore(shared, "wechat", InProcessValues()))
    try:
        result = await api.create_menu(menu)
    finally:
        await api.close()
        if own:
            await shared.close()
    return result.errcode, result.reason


def wechat_menu(args: argparse.Namespace, settings: Settings) -> int:
    try:
        menu = load_menu(Path(args.file))
    except MenuError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if args.dry_run:
        sys.stdout.write(json.dumps(menu, ensure_ascii=False, indent=2) + "\n")
        return 0
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        sys.stderr.write("error: WECHAT_APP_ID and WECHAT_APP_SECRET must be set\n")
        return 1
    errcode, reason = asyncio.run(create_menu(settings, menu))
    if errcode == 0:
        count = sum(len(b.get("sub_button", [b])) for b in menu["button"])
        sys.stdout.write(f"menu created: {len(menu['button'])} top-level, {count} actions\n")
        return 0
    why = MENU_ERRORS.get(errcode, reason)
    sys.stderr.write(f"error: WeChat refused the menu: errcode {errcode} ({why})\n")
    return 2


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels_admin", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    menu = sub.add_parser("wechat-menu", help="create the WeChat Official Account's menu")
    menu.add_argument("--file", default=str(MENU_FILE), help="default: channels/wechat/menu.yml")
    menu.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    args = parser.parse_args(argv)
    try:
        settings = settings or load_settings()
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return wechat_menu(args, settings)


if __name__ == "__main__":
    sys.exit(main())
