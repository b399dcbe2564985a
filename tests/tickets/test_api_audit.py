"""The case-system API shows a citizen's unmasked contact only with an audit
record: ``contact_viewed`` by ``api:<token name>``, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.db import Database
from tests.tickets.conftest import DEPT_TOKEN, Api, MakeFrontDoor, create_ticket


@pytest.fixture(params=["ticket_db", pytest.param("pg_ticket_db", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Database:
    db: Database = request.getfixturevalue(request.param)
    return db


async def test_ticket_reads_with_full_contact_are_audited(
    make_front_door: MakeFrontDoor, any_db: Database
) -> None:
    client = await make_front_door(any_db)
    ticket = await create_ticket(any_db)
    api = Api(client)

    status, page = await api.call("GET", "/api/v1/tickets")  # masked list: no record
    assert status == 200 and page["items"][0]["contact_phone"] == "138****5678"
    assert await any_db.audit.list(action="contact_viewed") == []

    status, body = await api.get(ticket.number)
    assert status == 200 and body["ticket"]["contact_phone"] == "13812345678"
    [entry] = await any_db.audit.list(action="contact_viewed")
    assert entry["actor"] == "api:case-system" and entry["target"] == ticket.number
    assert entry["detail"] == {
        "fields": ["contact_name", "contact_phone", "id_number"],
        "via": "get",
    }

    # an action's answer carries the ticket, with the contact: audited too
    status, body = await api.post(ticket.number, "notes", {"text": "已电话联系"})
    assert status == 200 and body["ticket"]["contact_phone"] == "13812345678"
    latest = (await any_db.audit.list(action="contact_viewed"))[0]
    assert latest["actor"] == "api:case-system" and latest["detail"]["via"] == "note"

    # a department's token: name and phone in full, the ID number masked
    dept = Api(client, DEPT_TOKEN)
    status, body = await dept.get(ticket.number)
    assert status == 200 and body["ticket"]["id_number"] == "110105********002X"
    latest = (await any_db.audit.list(action="contact_viewed"))[0]
    assert latest["actor"] == "api:dept-ecology_environment"
    assert latest["detail"]["fields"] == ["contact_name", "contact_phone"]

    status, _ = await api.get("GD000000000000")  # unknown: nothing shown, nothing recorded
    assert status == 404
    assert len(await any_db.audit.list(action="contact_viewed")) == 3
