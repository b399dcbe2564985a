"""The knowledge editor's page: questions the assistant did not settle,
grouped, and what an editor does with a group. Supervisors only (the
knowledge editors of the hotline are its supervisors; agents and departments
get 403).

``GET /console/knowledge`` (page); ``GET /console/api/knowledge`` ->
``{groups: [{ids, count, label, examples, texts, reasons, actions, faq_keys,
suggested_faq, channels, first_seen, last_seen}], faq: {domains, entries:
[{id, question, domain}]}, training: {current_fingerprint, trained,
up_to_date, other_changes, awaiting: [change], changes: [change]},
dismiss_reasons, storage: {writable, problem}}``;
``POST /console/api/knowledge/attach`` ``{ids, faq_key, sentences?}``;
``POST /console/api/knowledge/draft`` ``{ids, entry: {id, domain, question,
answer, source, department?, updated}, sentences?, extra?: [phrasing]}``;
``POST /console/api/knowledge/dismiss`` ``{ids, reason: spam|chitchat|other}``.
A change answers ``{ok, file, added, skipped: [{text, why}], diff,
change_id}``; a refused one 422 ``{error: "refused", message, problems}``
with data/knowledge untouched; a knowledge directory that cannot be written
(read-only, no permission, disk full) 503 ``{error: "not_writable", message}``,
the file untouched and the attempt logged (the page keeps what was filled
in; ``storage.problem`` warns before, and start-up logs it). Every change
is audited (``knowledge.attach``, ``knowledge.draft``, ``knowledge.dismiss``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console.auth import client_ip, require
from bot.console.static import page
from bot.console.users import User
from bot.knowledge_editor.editor import DISMISS_REASONS, Actor, KnowledgeEditor
from bot.knowledge_editor.faq_file import FaqEditError, KnowledgeNotWritable

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.database import Database

EDITOR_KEY = web.AppKey("knowledge_editor", KnowledgeEditor)
MAX_EXTRA = 40


def add_knowledge_routes(app: web.Application, db: Database, settings: Settings) -> None:
    app[EDITOR_KEY] = KnowledgeEditor(db, settings.knowledge_dir, settings.models_dir)
    app.on_startup.append(_check_storage)
    app.router.add_get("/console/knowledge", knowledge_page)
    app.router.add_get("/console/api/knowledge", overview)
    app.router.add_post("/console/api/knowledge/attach", attach)
    app.router.add_post("/console/api/knowledge/draft", draft)
    app.router.add_post("/console/api/knowledge/dismiss", dismiss)


async def _check_storage(app: web.Application) -> None:
    await asyncio.to_thread(app[EDITOR_KEY].log_storage_problem)


class _Bad(ValueError):
    pass


def _refused(message: str, problems: list[str] | None = None, status: int = 422) -> web.Response:
    body = {"error": "refused", "message": message, "problems": problems or []}
    return web.json_response(body, status=status)


def _not_writable(exc: KnowledgeNotWritable) -> web.Response:
    body = {"error": "not_writable", "message": str(exc), "problems": []}
    return web.json_response(body, status=503)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _Bad("请求格式有误") from None
    if not isinstance(body, dict):
        raise _Bad("请求格式有误")
    return body


def _ids(body: dict[str, Any]) -> list[int]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise _Bad("请选择一组问题")
    return ids


def _strings(value: Any, name: str, limit: int) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{name} 格式有误")
    if len(value) > limit:
        raise _Bad(f"{name} 最多 {limit} 条")
    return value


def _actor(request: web.Request) -> Actor:
    user = request["console_user"]
    assert isinstance(user, User)
    return Actor(user.username, client_ip(request))


def _editor(request: web.Request) -> KnowledgeEditor:
    return request.app[EDITOR_KEY]


@require("supervisor")
async def knowledge_page(request: web.Request) -> web.StreamResponse:
    return page("knowledge.html")


@require("supervisor")
async def overview(request: web.Request) -> web.Response:
    editor = _editor(request)
    problem = await asyncio.to_thread(editor.storage_problem)
    return web.json_response(
        {
            "groups": await editor.groups(),
            "faq": await editor.faq_choices(),
            "training": await editor.training(),
            "dismiss_reasons": DISMISS_REASONS,
            "storage": {"writable": problem is None, "problem": problem},
        }
    )


@require("supervisor")
async def attach(request: web.Request) -> web.Response:
    try:
        body = await _body(request)
        faq_key = body.get("faq_key")
        if not isinstance(faq_key, str) or not faq_key:
            raise _Bad("请选择要加入的问答")
        sentences = _strings(body.get("sentences"), "sentences", 500)
        result = await _editor(request).attach(_ids(body), faq_key, sentences, _actor(request))
    except _Bad as exc:
        return _refused(str(exc), status=400)
    except KnowledgeNotWritable as exc:
        return _not_writable(exc)
    except FaqEditError as exc:
        return _refused(str(exc), exc.problems)
    return web.json_response({"ok": True, **result})


@require("supervisor")
async def draft(request: web.Request) -> web.Response:
    try:
        body = await _body(request)
        entry = body.get("entry")
        if not isinstance(entry, dict):
            raise _Bad("请填写新问答")
        sentences = _strings(body.get("sentences"), "sentences", 500)
        extra = _strings(body.get("extra"), "extra", MAX_EXTRA) or []
        result = await _editor(request).draft(
            _ids(body), entry, sentences, [e for e in extra if e.strip()], _actor(request)
        )
    except _Bad as exc:
        return _refused(str(exc), status=400)
    except KnowledgeNotWritable as exc:
        return _not_writable(exc)
    except FaqEditError as exc:
        return _refused(str(exc), exc.problems)
    return web.json_response({"ok": True, **result})


@require("supervisor")
async def dismiss(request: web.Request) -> web.Response:
    try:
        body = await _body(request)
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise _Bad("请选择忽略的原因")
        done = await _editor(request).dismiss(_ids(body), reason, _actor(request))
    except _Bad as exc:
        return _refused(str(exc), status=400)
    except FaqEditError as exc:
        return _refused(str(exc), exc.problems)
    return web.json_response({"ok": True, "dismissed": done})
