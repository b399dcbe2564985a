"""Answers and guidance edited in data/knowledge take effect without a
restart (bot/knowledge.py KnowledgeFile); a broken file keeps the last good
content and says so in the log. Always on a temporary copy of the files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import _runtime
from actions.faq import ActionAnswerFaq
from actions.guidance import render_guide
from bot.config import ROOT
from bot.knowledge import (
    KnowledgeError,
    KnowledgeFile,
    load_faq,
    load_services,
    load_yaml,
    parse_faq,
    service_by_id,
    use_knowledge_dir,
)
from tests.actions.helpers import faq_parse, tracker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def knowledge(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "data" / "knowledge", folder)
    use_knowledge_dir(folder, 0.0)
    yield folder
    use_knowledge_dir(None, 3.0)


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    stat = path.stat()
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock


def test_a_changed_file_is_used_after_the_check_interval(knowledge: Path) -> None:
    clock = Clock()
    faq = KnowledgeFile(knowledge / "faq.yml", parse_faq, check_every=3.0, clock=clock)
    first = faq.get()["si_transfer_in"].answer
    _rewrite(knowledge / "faq.yml", "可以。职工养老保险关系", "可以（已更新）。职工养老保险关系")
    clock.now += 1.0
    assert faq.get()["si_transfer_in"].answer == first  # not checked again yet
    clock.now += 3.0
    assert faq.get()["si_transfer_in"].answer.startswith("可以（已更新）。")


def test_a_broken_file_keeps_the_last_good_content_and_logs_once(
    knowledge: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    faq = KnowledgeFile(knowledge / "faq.yml", parse_faq, check_every=0.0, clock=clock)
    good = faq.get()
    _rewrite(knowledge / "faq.yml", "    domain: social_insurance\n", "    domain: [unclosed\n")
    with caplog.at_level(logging.ERROR, logger="bot.knowledge"):
        assert faq.get() is good
        assert faq.get() is good
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "faq.yml is broken" in errors[0].getMessage()
    assert "last good version stays in use" in errors[0].getMessage()
    _rewrite(knowledge / "faq.yml", "    domain: [unclosed\n", "    domain: social_insurance\n")
    assert (
        faq.get() is not good
        and faq.get()["si_transfer_in"].answer == good["si_transfer_in"].answer
    )


def test_an_invalid_entry_also_keeps_the_last_good_content(knowledge: Path) -> None:
    faq = KnowledgeFile(knowledge / "faq.yml", parse_faq, check_every=0.0)
    good = faq.get()
    _rewrite(knowledge / "faq.yml", "    domain: social_insurance\n", "    domain: nowhere\n")
    assert faq.get() is good


def test_a_broken_file_at_the_first_load_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "faq.yml"
    path.write_text("entries: [{id: x}]\ndomains: {}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        KnowledgeFile(path, parse_faq).get()


async def test_the_next_faq_answer_uses_the_edited_answer(knowledge: Path) -> None:
    settings = dataclasses.replace(
        _runtime.settings(), knowledge_dir=knowledge, knowledge_reload_seconds=0.0
    )
    _runtime.use_settings(settings)
    try:
        entry = load_faq()["si_payment_record"]
        first = CollectingDispatcher()
        await ActionAnswerFaq().run(first, tracker(faq_parse("查社保", entry.id, 0.9)), {})
        assert first.messages[0]["text"].startswith(entry.answer)
        _rewrite(knowledge / "faq.yml", "可以通过以下渠道查询", "现在可以通过以下新渠道查询")
        second = CollectingDispatcher()
        await ActionAnswerFaq().run(second, tracker(faq_parse("查社保", entry.id, 0.9)), {})
        assert second.messages[0]["text"].startswith("现在可以通过以下新渠道查询")
    finally:
        _runtime.use_settings(None)
        use_knowledge_dir(None, 3.0)


def test_edited_guidance_is_used_without_a_restart(knowledge: Path) -> None:
    service = load_services()[0]
    assert service.offline is not None
    before = render_guide(service, "offline")
    old = f"    department: {service.department}\n"
    _rewrite(knowledge / "services.yml", old, "    department: 东莞市测试局\n")
    changed = service_by_id(service.id)
    assert changed is not None and changed.department == "东莞市测试局"
    assert "承办部门：东莞市测试局" in render_guide(changed, "offline") != before


@pytest.mark.parametrize("name", ["faq.yml", "services.yml"])
def test_libyaml_reads_the_knowledge_files_as_the_pure_python_loader_does(name: str) -> None:
    """bot.knowledge.load_yaml (libyaml's parser, which the knowledge editor's
    save leans on to stay quick) gives the values ``yaml.safe_load`` gives."""
    text = (ROOT / "data" / "knowledge" / name).read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)
    assert load_yaml("d: 2026-12-07\nn: 12345\ns: '0769'\n") == {
        "d": dt.date(2026, 12, 7), "n": 12345, "s": "0769"
    }  # fmt: skip
    with pytest.raises(yaml.constructor.ConstructorError):  # safe: no Python objects
        load_yaml("!!python/object/apply:os.system ['true']")
