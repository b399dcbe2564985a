"""Check data/knowledge/services.yml and the hand-written NLU files that go with it.

Run: .venv/bin/python scripts/check_knowledge_services.py
Exit status 1 and one line per problem when something is wrong.

Checks the service catalog (required ids and fields, aliases unique across
services and not generic, enough examples, online steps, no example naming
another service and enough naming their own) and looks for the
same example written twice anywhere in services.yml, data/nlu/core.yml,
data/nlu/complaints.yml and data/nlu/out_of_scope.yml.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge import load_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "data" / "knowledge" / "services.yml"
NLU_FILES = [ROOT / "data" / "nlu" / n for n in ("core.yml", "complaints.yml", "out_of_scope.yml")]

REQUIRED_IDS = {
    "residence_permit",
    "household_move_in",
    "id_card",
    "business_license",
    "social_security_card",
    "provident_fund_withdrawal",
    "resident_medical_insurance",
    "unemployment_benefit",
    "driver_license_renewal",
    "traffic_violation",
    "school_enrolment",
    "marriage_registration",
    "water_service",
    "electricity_service",
    "iit_annual_settlement",
    "no_criminal_record",
    "hk_macau_permit",
    "birth_registration",
}
TOP_FIELDS = (
    "id",
    "name",
    "aliases",
    "department",
    "source",
    "updated",
    "sample",
    "offline",
    "examples",
)
OFFLINE_FIELDS = ("office", "address", "hours", "materials", "process", "fees", "time_limit")
GENERIC_WORDS = {
    "办理",
    "证明",
    "办证",
    "业务",
    "申请",
    "登记",
    "补办",
    "换证",
    "手续",
    "证件",
    "办事",
    "查询",
    "缴费",
    "过户",
    "报装",
}
#: Issue 18: the catalog covers at least the 60 services citizens most often ask about.
MIN_SERVICES = 60
#: The sample catalog was first written in November 2026; no entry is dated in the future.
FIRST_UPDATED = dt.date(2026, 11, 1)
MIN_INTENT_EXAMPLES = {"complain": 60, "suggest": 30, "inform": 60, "out_of_scope": 120}
TICKET = re.compile(r"\d{8}-\d{6}")
DIGIT_RUN = re.compile(r"\d{8,}-?\d*")


def norm(text: str) -> str:
    """Text as the classifier roughly sees it: no spaces or punctuation, lower case."""
    return re.sub(r"[\s,,。.!!??、~～]+", "", text).lower()


def check_services(data: dict, problems: list[str]) -> list[tuple[str, str]]:
    services = data.get("services") or []
    examples: list[tuple[str, str]] = []
    if data.get("version") != 1:
        problems.append("services.yml: version must be 1")
    if len(services) < MIN_SERVICES:
        problems.append(f"services.yml: {len(services)} services, need >= {MIN_SERVICES}")
    ids = [s.get("id") for s in services]
    for dup in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"services.yml: duplicate id {dup}")
    for missing in sorted(REQUIRED_IDS - set(ids)):
        problems.append(f"services.yml: missing service {missing}")

    alias_owner: dict[str, str] = {}
    for svc in services:
        sid = svc.get("id", "?")
        where = f"services.yml [{sid}]"
        for field in TOP_FIELDS:
            if svc.get(field) in (None, "", []):
                problems.append(f"{where}: missing {field}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(sid)):
            problems.append(f"{where}: id is not ascii snake_case")
        if svc.get("sample") is not True:
            problems.append(f"{where}: sample must be true")
        if not str(svc.get("source", "")).startswith("示例内容"):
            problems.append(f"{where}: source should start with 示例内容")
        updated = svc.get("updated")
        if not isinstance(updated, dt.date) or not FIRST_UPDATED <= updated <= dt.date.today():
            problems.append(
                f"{where}: updated should be a date from {FIRST_UPDATED} to today, got {updated!r}"
            )

        aliases = svc.get("aliases") or []
        if not 4 <= len(aliases) <= 8:
            problems.append(f"{where}: {len(aliases)} aliases, need 4-8")
        for alias in aliases:
            if alias in GENERIC_WORDS or len(alias) < 2:
                problems.append(f"{where}: alias {alias!r} is too generic")
            owner = alias_owner.setdefault(alias, sid)
            if owner != sid:
                problems.append(f"{where}: alias {alias!r} also used by {owner}")

        online = svc.get("online")
        if online and online.get("available"):
            if not online.get("entry"):
                problems.append(f"{where}: online.entry missing")
            if not 3 <= len(online.get("steps") or []) <= 6:
                problems.append(f"{where}: online.steps must have 3-6 lines")
        offline = svc.get("offline") or {}
        for field in OFFLINE_FIELDS:
            if offline.get(field) in (None, "", []):
                problems.append(f"{where}: offline.{field} missing")

        exs = svc.get("examples") or []
        if len(exs) < 6:
            problems.append(f"{where}: {len(exs)} examples, need >= 6")
        examples += [(f"services.yml [{sid}]", str(e)) for e in exs]

    # An example that names another service's alias would teach the wrong service,
    # unless it names one of its own longer aliases holding that alias (居住证签注
    # holds 居住证): the longest alias wins (bot.knowledge.match_service).
    for svc in services:
        own = [str(a) for a in [svc.get("name"), *(svc.get("aliases") or [])] if a]
        for ex in svc.get("examples") or []:
            for alias, owner in alias_owner.items():
                if owner != svc.get("id") and alias in ex:
                    if any(alias in mine and mine in ex for mine in own):
                        continue
                    problems.append(
                        f"services.yml [{svc.get('id')}]: example {ex!r} "
                        f"contains alias {alias!r} of {owner}"
                    )
    return examples


#: Examples a service needs that name it as bot.knowledge matches names and
#: aliases (the rest may ask in other words: "开个证明 证明我没犯过事的那种"
#: teaches the service retriever and DIET what the matcher cannot find).
MIN_NAMED_EXAMPLES = 4


def check_matching(problems: list[str]) -> None:
    """An example names its own service or none the way bot.knowledge matches
    it (never another one), and each service has MIN_NAMED_EXAMPLES that do."""
    sys.path.insert(0, str(ROOT))
    try:
        from bot.knowledge import load_services, match_service
    except ImportError:  # the matcher is someone else's module; skip when absent
        return
    catalog = load_services(SERVICES)
    for svc in catalog:
        named = 0
        for ex in svc.examples:
            found = match_service(ex, catalog)
            if found is not None and found.id != svc.id:
                problems.append(f"services.yml [{svc.id}]: example {ex!r} matches {found.id}")
            named += found is not None and found.id == svc.id
        if named < MIN_NAMED_EXAMPLES:
            problems.append(
                f"services.yml [{svc.id}]: {named} examples name the service by its name or "
                f"aliases, need >= {MIN_NAMED_EXAMPLES}"
            )


def check_nlu(path: Path, problems: list[str], counts: dict[str, int]) -> list[tuple[str, str]]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    examples: list[tuple[str, str]] = []
    if str(data.get("version")) != "3.1":
        problems.append(f'{path.name}: version must be "3.1"')
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        lines = [ln.strip() for ln in str(block.get("examples", "")).splitlines() if ln.strip()]
        texts = [ln[2:].strip() for ln in lines if ln.startswith("- ")]
        if len(texts) != len(lines):
            problems.append(f"{path.name} [{intent}]: a line does not start with '- '")
        counts[intent] = counts.get(intent, 0) + len(texts)
        for text in texts:
            examples.append((f"{path.name} [{intent}]", text))
            if "[" in text or "]" in text:
                problems.append(f"{path.name} [{intent}]: brackets in {text!r} look like entities")
            if intent == "check_ticket":
                for run in DIGIT_RUN.findall(text):
                    if not TICKET.fullmatch(run):
                        problems.append(f"{path.name}: ticket {run!r} is not YYYYMMDD-NNNNNN")
    return examples


def main() -> int:
    problems: list[str] = []
    services = load_yaml(SERVICES.read_text(encoding="utf-8"))
    examples = check_services(services, problems)
    check_matching(problems)
    counts: dict[str, int] = {}
    for path in NLU_FILES:
        if path.exists():
            examples += check_nlu(path, problems, counts)
        else:
            problems.append(f"{path.name}: missing")
    for intent, n in counts.items():
        need = MIN_INTENT_EXAMPLES.get(intent, 25)
        if n < need:
            problems.append(f"intent {intent}: {n} examples, need >= {need}")

    # Other engineers' NLU files: only a clash with one of ours is reported.
    others = [
        p
        for p in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        if p not in NLU_FILES and not p.name.startswith("generated_")
    ]
    for path in others:
        examples += check_nlu(path, [], {})
    faq_path = ROOT / "data" / "knowledge" / "faq.yml"
    if faq_path.exists():
        faq = load_yaml(faq_path.read_text(encoding="utf-8")) or {}
        for entry in faq.get("entries") or []:
            for text in [entry.get("question"), *(entry.get("examples") or [])]:
                if text:
                    examples.append((f"faq.yml [{entry.get('id')}]", str(text)))
    seen: dict[str, list[str]] = defaultdict(list)
    for where, text in examples:
        seen[norm(text)].append(f"{where} {text!r}")
    ours = ("services.yml",) + tuple(p.name for p in NLU_FILES)
    for places in seen.values():
        if len(places) > 1 and any(p.startswith(ours) for p in places):
            problems.append("duplicate example: " + " / ".join(places))

    print(f"services: {len(services.get('services') or [])}")
    for intent, n in counts.items():
        print(f"  {intent}: {n}")
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
