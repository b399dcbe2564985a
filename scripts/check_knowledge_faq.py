"""Check data/knowledge/faq.yml (the FAQ knowledge file) for the rules its editors follow.

Two kinds of entries: the shipped sample content (``sample: true``: its
source starts with 示例内容, it was checked between November 2026 and today,
and each domain holds 5 to ``PER_DOMAIN[1]`` of them, roughly in proportion to
how often the hotline is asked about the domain) and entries the hotline's
knowledge editors add (``sample: false``, e.g. drafted on the console's
knowledge page: a real source, checked on a date that is not in the future;
they do not count towards a domain's sample quota). Every other rule holds
for both. The service catalog checked against is the ``services.yml`` beside
the file.

Usage: ``.venv/bin/python scripts/check_knowledge_faq.py [path/to/faq.yml]``.
Prints every problem found and exits 1 if there is any, else prints a summary.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge import load_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "data" / "knowledge" / "faq.yml"
SERVICES = ROOT / "data" / "knowledge" / "services.yml"

MIN_ENTRIES = 66
MIN_DOMAINS = 13
PER_DOMAIN = (5, 40)
MIN_EXAMPLES = 10
MAX_ANSWER_CHARS = 220
SAMPLE_SINCE = dt.date(2026, 11, 1)  # the sample content was written from then on
SINCE = dt.date(2020, 1, 1)  # the oldest check date an editor's entry may carry
REQUIRED = ("id", "domain", "question", "answer", "source", "updated", "sample", "examples")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PREFIX = {
    "social_insurance": "si_",
    "medical_insurance": "mi_",
    "housing_provident_fund": "hpf_",
    "household_registration": "hr_",
    "education": "edu_",
    "business": "biz_",
    "tax": "tax_",
    "traffic": "tr_",
    "utilities": "ut_",
    "labour": "lab_",
    "veterans": "vet_",  # part A domains
    "disability": "dis_",
    "employment": "emp_",
    "housing": "hs_",
    "healthcare": "hc_",
    "civil_affairs": "ca_",
    # part B domains
    "urban_management": "um_",
    "market_regulation": "mr_",
    "environment": "env_",
    "public_security": "ps_",
    "culture_tourism": "ct_",
    "agriculture": "ag_",
}
# Well-known public numbers an answer may cite; any other 5+ digit number is suspicious.
KNOWN_NUMBERS = {"12345", "12333", "12329", "12366", "12315", "12348", "95598", "12123",
                 "12367"}  # 12367: national immigration administration service line
SHORT_NUMBERS = {"110", "119", "120", "122"}
# Phrasings owned by other intents: service guides (how/where/materials) and complaints/tickets.
FORBIDDEN_IN_EXAMPLES = (
    "投诉",
    "我想办",
    "我要办",
    "想办理",
    "怎么办理",
    "办理流程",
    "什么材料",
    "要带什么",
    "要带啥",
    "在哪里办",
    "在哪办",
    "去哪办",
    "去哪里办",
    "进度",
    "工单",
    "帮我办",
)
_NOISE = re.compile(r"[\s,,。.!!??、::;;\"'“”‘’()()]+")


def norm(text: str) -> str:
    return _NOISE.sub("", text).lower()


def check(path: Path) -> tuple[list[str], dict]:
    errors: list[str] = []
    data = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return [f"{path}: top level is not a mapping"], {}
    domains = data.get("domains") or {}
    entries = data.get("entries") or []
    if data.get("version") != 1:
        errors.append("version must be 1")
    for key in domains:
        if key not in PREFIX:
            errors.append(f"domain {key!r} has no id prefix in this checker")

    ids: set[str] = set()
    seen_examples: dict[str, str] = {}
    per_domain: Counter[str] = Counter()
    sample_per_domain: Counter[str] = Counter()
    questions = {}
    total_examples = 0
    for i, raw in enumerate(entries):
        where = f"entry #{i} {raw.get('id', '?')}"
        for key in REQUIRED:
            if raw.get(key) in (None, "", []):
                errors.append(f"{where}: missing {key}")
        entry_id = str(raw.get("id", ""))
        if not ID_RE.match(entry_id):
            errors.append(f"{where}: id is not ascii snake_case")
        if entry_id in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(entry_id)
        domain = raw.get("domain")
        if domain not in domains:
            errors.append(f"{where}: domain {domain!r} not declared")
        else:
            per_domain[domain] += 1
            if not entry_id.startswith(PREFIX.get(domain, "\0")):
                errors.append(f"{where}: id should start with {PREFIX.get(domain)!r}")
        question = str(raw.get("question", "")).strip()
        answer = str(raw.get("answer", "")).strip()
        questions[entry_id] = question
        if len(answer) > MAX_ANSWER_CHARS:
            errors.append(f"{where}: answer has {len(answer)} chars (> {MAX_ANSWER_CHARS})")
        if "\n" in answer:
            errors.append(f"{where}: answer spans several lines")
        for number in re.findall(r"\d{5,}", answer):
            if number not in KNOWN_NUMBERS:
                errors.append(f"{where}: answer cites unknown number {number}")
        for match in re.finditer(r"(?:拨打|热线|电话)\D{0,6}?(\d{3,})", answer):
            if match.group(1) not in KNOWN_NUMBERS | SHORT_NUMBERS:
                errors.append(f"{where}: phone number {match.group(1)} not in the known list")
        sample = raw.get("sample")
        updated = raw.get("updated")
        source = str(raw.get("source", ""))
        if sample is True:
            sample_per_domain[str(domain)] += 1
            if not isinstance(updated, dt.date) or not SAMPLE_SINCE <= updated <= dt.date.today():
                errors.append(
                    f"{where}: updated must be a date from {SAMPLE_SINCE} to today, got {updated!r}"
                )
            if not source.startswith("示例内容"):
                errors.append(f"{where}: source should start with 示例内容")
        elif sample is False:
            if not isinstance(updated, dt.date) or not SINCE <= updated <= dt.date.today():
                errors.append(f"{where}: updated must be a date since {SINCE}, not in the future")
            if source.startswith("示例内容"):
                errors.append(f"{where}: an editor's entry (sample: false) names its real source")
        else:
            errors.append(f"{where}: sample must be true or false")
        if "department" in raw and not str(raw.get("department") or "").strip():
            errors.append(f"{where}: department, when present, must not be empty")
        # Entries imported from the city's export (bot/knowledge_import.py) may carry it.
        until = raw.get("valid_until")
        if until is not None and (
            not isinstance(until, dt.date) or (isinstance(updated, dt.date) and until < updated)
        ):
            errors.append(f"{where}: valid_until must be a date on or after updated")
        examples = raw.get("examples") or []
        if not isinstance(examples, list) or len(examples) < MIN_EXAMPLES:
            errors.append(f"{where}: needs >= {MIN_EXAMPLES} examples, has {len(examples)}")
            continue
        total_examples += len(examples)
        verbatim = 0
        for example in examples:
            if not isinstance(example, str) or not example.strip():
                errors.append(f"{where}: example {example!r} is not a non-empty string")
                continue
            key = norm(example)
            if key == norm(question):
                verbatim += 1
            if key in seen_examples:
                other = seen_examples[key]
                errors.append(f"{where}: example {example!r} duplicates one in {other}")
            seen_examples[key] = entry_id
            for phrase in FORBIDDEN_IN_EXAMPLES:
                if phrase in example:
                    errors.append(f"{where}: example {example!r} uses {phrase!r} (other intent)")
        if verbatim > 1:
            errors.append(f"{where}: question repeated verbatim {verbatim} times in examples")

    # An example must not be another entry's canonical question.
    for entry_id, question in questions.items():
        owner = seen_examples.get(norm(question))
        if owner and owner != entry_id:
            errors.append(f"{entry_id}: question is an example of {owner}")

    # Nor one of the service catalog's examples (those route to the service guide).
    services_path = path.parent / "services.yml"
    if services_path.exists():
        services = load_yaml(services_path.read_text(encoding="utf-8")) or {}
        for service in services.get("services") or []:
            for example in service.get("examples") or []:
                owner = seen_examples.get(norm(str(example)))
                if owner:
                    errors.append(f"{owner}: example {example!r} is also a services.yml example")

    if len(entries) < MIN_ENTRIES:
        errors.append(f"only {len(entries)} entries (need >= {MIN_ENTRIES})")
    if len(per_domain) < MIN_DOMAINS:
        errors.append(f"only {len(per_domain)} domains used (need >= {MIN_DOMAINS})")
    for domain in domains:
        count, samples = per_domain.get(domain, 0), sample_per_domain.get(domain, 0)
        low, high = PER_DOMAIN
        if count < low or samples > high:
            errors.append(
                f"domain {domain}: {count} entries, {samples} samples (want {low}-{high})"
            )

    # The application's own loader must accept the file too.
    sys.path.insert(0, str(ROOT))
    try:
        from bot.knowledge import parse_faq

        parse_faq(data)
    except ImportError:
        pass
    except ValueError as exc:
        errors.append(f"bot.knowledge.parse_faq rejects the file: {exc}")

    summary = {
        "entries": len(entries),
        "domains": len(per_domain),
        "examples": total_examples,
        "per_domain": dict(per_domain),
        "longest_answer": max((len(str(e.get("answer", "")).strip()) for e in entries), default=0),
    }
    return errors, summary


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else FAQ
    errors, summary = check(path)
    for error in errors:
        print(f"ERROR {error}")
    if errors:
        print(f"{len(errors)} problem(s) in {path}")
        return 1
    print(
        f"OK {path}: {summary['entries']} entries, {summary['domains']} domains, "
        f"{summary['examples']} examples, longest answer {summary['longest_answer']} chars"
    )
    print("per domain: " + ", ".join(f"{k}={v}" for k, v in summary["per_domain"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
