"""The knowledge editor's page and API: grouped unanswered questions, attach /
draft / dismiss as reviewable changes of a temporary copy of data/knowledge
(never the repository's files), the knowledge checks, the awaiting-training
list, the audit log, and 403 for agents and departments."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from bot.config import ROOT
from bot.console.knowledge import EDITOR_KEY
from bot.db import Database
from bot.knowledge_editor.grouping import cluster
from bot.knowledge_editor.training import fingerprint
from tests.console.conftest import MakeReplica, SignIn

ID_CARD = ["身份证丢了怎么补办", "身份证掉了咋补办啊", "我的身份证丢了怎么办", "补办身份证要多久"]
FUND = ["公积金断缴了还能贷款吗", "公积金断缴影响贷款不", "公积金停缴了能不能申请贷款"]
CHAT = ["哈哈哈你是机器人吗", "你是不是机器人"]


def copy_project(to: Path) -> Path:
    """config, domain and data/ of the repository under ``to``: what the editor
    changes and what the training fingerprint covers."""
    shutil.copytree(ROOT / "data", to / "data")
    shutil.copy(ROOT / "config.yml", to / "config.yml")
    shutil.copy(ROOT / "domain.yml", to / "domain.yml")
    (to / "models").mkdir()
    return to


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
async def kclient(make_replica: MakeReplica, project: Path) -> TestClient:
    return await make_replica(
        knowledge_dir=project / "data" / "knowledge", models_dir=project / "models"
    )


async def keep_questions(db: Database) -> None:
    for text in [*ID_CARD, *FUND, *CHAT]:
        await db.unanswered.keep(
            reason="fallback", text=text, conversation_id="webchat:s1",
            intent="faq", action="action_handle_fallback",
        )  # fmt: skip
    await db.unanswered.keep(
        reason="thumbs_down", text="公积金断缴了还能不能贷款", conversation_id="wechat:o1",
        faq_key="hpf_withdrawal_conditions", action="action_answer_faq",
    )  # fmt: skip


def group_with(groups: list[dict[str, Any]], word: str) -> dict[str, Any]:
    return next(g for g in groups if word in g["label"])


def check_faq(path: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_knowledge_faq.py"), str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_similar_questions_group_and_different_ones_do_not() -> None:
    texts = [*ID_CARD, *FUND, *CHAT, "今天天气怎么样", "小孩上学积分怎么算", "积分入学怎么算分"]
    groups = [sorted(texts[i] for i in g) for g in cluster(texts)]
    assert sorted(ID_CARD) in groups and sorted(FUND) in groups and sorted(CHAT) in groups
    assert sorted(["小孩上学积分怎么算", "积分入学怎么算分"]) in groups
    assert ["今天天气怎么样"] in groups
    assert cluster(["公积金怎么提取"] * 3 + ["身份证丢了"]) == [[0, 1, 2], [3]]
    assert cluster([]) == []


async def test_groups_show_counts_examples_what_the_assistant_did(
    kclient: TestClient, console_db: Database, sign_in: SignIn
) -> None:
    await keep_questions(console_db)
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    body = await supervisor.json("/console/api/knowledge")
    fund = group_with(body["groups"], "公积金")
    assert fund["count"] == 4 and len(fund["ids"]) == 4
    assert fund["reasons"] == {"fallback": 3, "thumbs_down": 1}
    assert fund["actions"] == {"action_handle_fallback": 3, "action_answer_faq": 1}
    assert fund["suggested_faq"] == "hpf_withdrawal_conditions"
    assert fund["channels"] == {"webchat": 3, "wechat": 1}
    assert fund["first_seen"] <= fund["last_seen"] and len(fund["examples"]) == 4
    assert group_with(body["groups"], "身份证")["count"] == 4
    assert any(e["id"] == "hpf_withdrawal_conditions" for e in body["faq"]["entries"])
    assert body["training"]["trained"] is None and body["training"]["awaiting"] == []


async def test_attach_adds_phrasings_as_a_reviewable_change_awaiting_training(
    kclient: TestClient, console_db: Database, sign_in: SignIn, project: Path
) -> None:
    await keep_questions(console_db)
    faq = project / "data" / "knowledge" / "faq.yml"
    before = faq.read_text(encoding="utf-8")
    model = project / "models"
    (model / f".trained-{fingerprint(faq.parent)}").write_text("m.tar.gz", encoding="utf-8")
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    assert (await supervisor.json("/console/api/knowledge"))["training"]["up_to_date"]
    fund = group_with((await supervisor.json("/console/api/knowledge"))["groups"], "公积金")
    chosen = FUND[:2] + ["公积金断缴了还能不能贷款"]
    generated_file = project / "data" / "nlu" / "generated_faq.yml"
    generated_file.write_text("# stale\n", encoding="utf-8")  # the attach must rewrite it
    resp = await supervisor.post(
        "/console/api/knowledge/attach",
        {"ids": fund["ids"], "faq_key": "hpf_withdrawal_conditions", "sentences": chosen},
    )
    assert resp.status == 200, await resp.text()
    result = await resp.json()
    assert result["added"] == chosen and result["skipped"] == []
    after = faq.read_text(encoding="utf-8")
    # Only the new lines, after the entry's last example; comments and layout stay.
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [f"      - {t}" for t in chosen]
    assert [ln for ln in before.splitlines() if ln.lstrip().startswith("#")] == [
        ln for ln in after.splitlines() if ln.lstrip().startswith("#")
    ]
    entry = next(
        e for e in yaml.safe_load(after)["entries"] if e["id"] == "hpf_withdrawal_conditions"
    )
    assert entry["examples"][-3:] == chosen
    assert "+      - 公积金断缴了还能贷款吗" in result["diff"]
    check_faq(faq)
    # The training data follows the knowledge file: regenerated from it. DIET gets
    # at most FAQ_PHRASINGS_FOR_DIET phrasings (each entry's first ones), so with
    # the broad catalog an example appended last reaches the model through the FAQ
    # retriever, which learns every phrasing from faq.yml itself.
    from bot.knowledge_editor.scripts import script

    expected = script("build_training_data").outputs(project / "data" / "knowledge")
    assert generated_file.read_text(encoding="utf-8") == expected["generated_faq.yml"]

    body = await supervisor.json("/console/api/knowledge")
    assert not any("公积金" in g["label"] for g in body["groups"])  # settled
    training = body["training"]
    assert not training["up_to_date"] and not training["other_changes"]
    [waiting] = training["awaiting"]
    assert (waiting["kind"], waiting["faq_key"], waiting["actor"]) == (
        "attach", "hpf_withdrawal_conditions", "banzhang",
    )  # fmt: skip
    # `make train` done: the stamp of the new fingerprint; nothing awaits.
    (model / f".trained-{fingerprint(faq.parent)}").write_text("n.tar.gz", encoding="utf-8")
    assert (await supervisor.json("/console/api/knowledge"))["training"]["awaiting"] == []
    [audit] = [r for r in await console_db.audit.list() if r["action"] == "knowledge.attach"]
    assert audit["actor"] == "banzhang" and audit["target"] == "hpf_withdrawal_conditions"
    assert audit["detail"]["phrasings"] == chosen and audit["client_address"] == "127.0.0.1"


async def test_attach_skips_what_would_break_the_knowledge_checks(
    kclient: TestClient, console_db: Database, sign_in: SignIn, project: Path
) -> None:
    faq = project / "data" / "knowledge" / "faq.yml"
    existing = yaml.safe_load(faq.read_text(encoding="utf-8"))["entries"][0]["examples"][0]
    for text in [existing, "我要投诉公积金中心", "电话138****5678的公积金"]:
        await console_db.unanswered.keep(reason="fallback", text=text, conversation_id="webchat:x")
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    ids = [i.id for i in await console_db.unanswered.list_open()]
    before = faq.read_text(encoding="utf-8")
    resp = await supervisor.post(
        "/console/api/knowledge/attach", {"ids": ids, "faq_key": "hpf_withdrawal_conditions"}
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["message"] == "没有可以加入的新问法" and len(body["problems"]) == 3
    assert faq.read_text(encoding="utf-8") == before  # untouched
    assert len(await console_db.unanswered.list_open()) == 3  # still open
    unknown = await supervisor.post(
        "/console/api/knowledge/attach", {"ids": ids, "faq_key": "no_such_faq"}
    )
    assert unknown.status == 422 and faq.read_text(encoding="utf-8") == before


async def test_draft_adds_a_new_entry_that_passes_the_checks(
    kclient: TestClient, console_db: Database, sign_in: SignIn, project: Path
) -> None:
    await keep_questions(console_db)
    faq = project / "data" / "knowledge" / "faq.yml"
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    group = group_with((await supervisor.json("/console/api/knowledge"))["groups"], "身份证")
    entry = {
        "id": "hr_id_card_lost", "domain": "household_registration",
        "question": "身份证丢了怎么办?",
        "answer": "身份证丢失后请尽快到户籍所在地或居住地派出所申请补领，也可通过粤省事预约；"
                  "如担心被冒用，可向派出所申请挂失。",
        "source": "东莞市公安局公开办事指南", "department": "东莞市公安局",
        "updated": "2026-12-01",
    }  # fmt: skip
    extra = ["身份证不见了怎么弄", "身份证遗失了咋整", "身份证丢了会不会被别人冒用",
             "丢了身份证要报警吗", "身份证找不到了", "钱包连身份证一起丢了",
             "身份证弄丢了有什么影响"]  # fmt: skip
    too_few = await supervisor.post(
        "/console/api/knowledge/draft", {"ids": group["ids"], "entry": entry, "extra": extra[:2]}
    )
    assert too_few.status == 422 and "至少需要 10 条问法" in (await too_few.json())["message"]
    resp = await supervisor.post(
        "/console/api/knowledge/draft", {"ids": group["ids"], "entry": entry, "extra": extra}
    )
    assert resp.status == 200, await resp.text()
    data = yaml.safe_load(faq.read_text(encoding="utf-8"))
    ids = [e["id"] for e in data["entries"]]
    new = data["entries"][ids.index("hr_id_card_lost")]
    assert data["entries"][ids.index("hr_id_card_lost") - 1]["domain"] == "household_registration"
    assert new["sample"] is False and new["updated"] == dt.date(2026, 12, 1)
    assert new["department"] == "东莞市公安局" and new["source"] == entry["source"]
    assert set(ID_CARD) <= set(new["examples"]) and len(new["examples"]) == 11
    assert "OK" in check_faq(faq)
    from bot.knowledge import read_faq

    assert read_faq(faq)["hr_id_card_lost"].answer == entry["answer"]
    [waiting] = (await supervisor.json("/console/api/knowledge"))["training"]["awaiting"]
    assert (waiting["kind"], waiting["faq_key"]) == ("draft", "hr_id_card_lost")
    again = await supervisor.post(
        "/console/api/knowledge/draft", {"ids": group["ids"], "entry": entry, "extra": extra}
    )
    assert again.status == 422  # the group is settled (and the id taken)


async def test_dismiss_settles_a_group_without_touching_the_files(
    kclient: TestClient, console_db: Database, sign_in: SignIn, project: Path
) -> None:
    await keep_questions(console_db)
    faq = project / "data" / "knowledge" / "faq.yml"
    before = faq.read_text(encoding="utf-8")
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    chat = group_with((await supervisor.json("/console/api/knowledge"))["groups"], "机器人")
    bad = await supervisor.post(
        "/console/api/knowledge/dismiss", {"ids": chat["ids"], "reason": "x"}
    )
    assert bad.status == 422
    resp = await supervisor.post(
        "/console/api/knowledge/dismiss", {"ids": chat["ids"], "reason": "chitchat"}
    )
    assert resp.status == 200 and (await resp.json())["dismissed"] == 2
    groups = (await supervisor.json("/console/api/knowledge"))["groups"]
    assert not any("机器人" in g["label"] for g in groups)
    assert faq.read_text(encoding="utf-8") == before
    assert any(r["action"] == "knowledge.dismiss" for r in await console_db.audit.list())


async def test_supervisors_only(kclient: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(kclient, "zhangsan")
    department = await sign_in(kclient, "huanbao", role="department")
    for user in (agent, department):
        assert (await user.get("/console/api/knowledge")).status == 403
        assert (await user.get("/console/knowledge")).status == 403
        for action in ("attach", "draft", "dismiss"):
            resp = await user.post(f"/console/api/knowledge/{action}", {"ids": [1]})
            assert resp.status == 403
    anonymous = await kclient.get("/console/api/knowledge", headers={"Accept": "application/json"})
    assert anonymous.status == 401
    supervisor = await sign_in(kclient, "banzhang", role="supervisor")
    page = await supervisor.get("/console/knowledge")
    assert page.status == 200 and "知识库维护" in await page.text()


def test_the_editor_writes_only_where_it_is_told(kclient: TestClient, project: Path) -> None:
    editor = kclient.app[EDITOR_KEY]
    assert editor.faq_path == project / "data" / "knowledge" / "faq.yml"
    assert ROOT not in editor.faq_path.parents
