"""Load benchmark of the front door against Rasa directly (issue 3).

    .venv/bin/python benchmarks/benchmark.py            # full run (about 15 minutes)
    .venv/bin/python benchmarks/benchmark.py --quick    # a few minutes
    make benchmark

It starts its own action server, Rasa (the newest model in models/) and
front door on free loopback ports with a throwaway var directory (or reuses
running ones: --rasa-url, --frontdoor-url), waits for /healthz, and drives
simulated citizens with scripted Chinese conversations on these paths in
the same run:

- ``rasa``: Rasa's own REST channel, directly (the reference);
- ``frontdoor-rest``: the front door's ``POST /webhooks/rest/webhook``;
- ``frontdoor-ws``: the web widget (``POST /webchat/session`` + WebSocket);
- ``frontdoor-wechat``: signed plaintext ``POST /webhooks/wechat`` requests,
  pushed replies going to a fake WeChat API served by this script.

Loads: a single conversation at a time (paths interleaved turn by turn);
human-paced (50 citizens pausing 3-10 s, seeded); saturation (no pauses,
increasing concurrency; Rasa and the front door's REST alternate per level);
a WeChat run (paced, then a burst). Every reply is checked against the
replies Rasa gave directly for the same conversation (lost, duplicated,
reordered, wrong), widget acks and transcript frames are checked, and at the
end the front door's transcript is audited. The report goes to stdout and
to var/benchmark/report.json; process logs to var/benchmark/logs/.

With ``--rasa-servers 2`` (issue 19) it also starts a second Rasa server and
a second front door whose ``RASA_URLS`` names both (its own var directory;
the first front door keeps the first Rasa alone), and the ``scale`` phase
compares them in the same run: saturation throughput through the front
door's REST path with two Rasa servers against one (levels taken in turn,
A B B A), then ``--scale-citizens`` (100) human-paced citizens pausing
3-10 s on the two-server front door. Each Rasa process serves with one
TensorFlow thread (hotline_rasa/__main__.py). ``--phases scale`` runs only
that phase (after the reference replies):

    .venv/bin/python benchmarks/benchmark.py --rasa-servers 2 --phases scale

Exit status: 0 when every target passes, 1 when one fails, 2 on an error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import resource
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark_load import (
    Load,
    Reference,
    Run,
    record_reference,
    run_load,
    run_mixed_load,
    sequential,
    warm_up,
)
from benchmark_paths import ClientPath, FakeWeChatApi, RestPath, WebChatPath, WeChatPath
from benchmark_procs import (
    ROOT,
    Options,
    Services,
    free_port,
    load_average,
)
from benchmark_report import (
    audit_transcripts,
    evaluate,
    format_report,
    paired_added_ms,
    summarize,
)

log = logging.getLogger("benchmark")

#: The path through the front door over several Rasa servers (--rasa-servers).
POOL_PATH = "frontdoor-rest-pool"

OUT_DIR = ROOT / "var" / "benchmark"
PHASES = ("sequential", "human", "saturation", "wechat", "scale")


@dataclass(frozen=True)
class Plan:
    """How long and how hard each load runs."""

    human_duration: float
    human_blocks: int
    human_design: str  # "mixed": paths side by side; "blocks": paths taking turns
    citizens: int
    pause: tuple[float, float]
    levels: tuple[int, ...]
    level_duration: float
    level_slices: int  # each path's time at a level, cut into slices the paths take in turn
    rounds: int
    wechat_citizens: int
    wechat_duration: float
    wechat_burst: int
    wechat_burst_duration: float
    seed: int
    phases: tuple[str, ...]
    # The scale phase (--rasa-servers 2 or more): saturation levels, one
    # front door against the other, and the human-paced citizens on the pool.
    scale_levels: tuple[int, ...] = ()
    scale_citizens: int = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Front door vs Rasa: latency, throughput, memory, correctness."
    )
    parser.add_argument("--quick", action="store_true", help="a few minutes instead of ~15")
    parser.add_argument("--duration", type=float, help="human-paced seconds per path (120)")
    parser.add_argument("--citizens", type=int, default=50, help="human-paced concurrency")
    parser.add_argument(
        "--blocks", type=int, help="human-paced: blocks per path, paths taking turns (3)"
    )
    parser.add_argument(
        "--human-design",
        choices=("mixed", "blocks"),
        default="mixed",
        help="human-paced: paths side by side, citizens spread over them (mixed, the "
        "default) or one path at a time in rotating blocks (blocks)",
    )
    parser.add_argument("--levels", help="saturation concurrencies, e.g. 1,4,8,16,32")
    parser.add_argument("--level-duration", type=float, help="seconds per saturation level")
    parser.add_argument(
        "--level-slices",
        type=int,
        help="saturation: each path's seconds at a level in this many slices, the paths "
        "taking turns A B B A ... (2; 1 = one stretch per path, as before 2026-12-03)",
    )
    parser.add_argument("--rounds", type=int, help="single-conversation rounds of all scripts")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--redis", action="store_true", help="front door store in Redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rasa-url", help="reuse a running Rasa (with --enable-api)")
    parser.add_argument("--action-server-url", help="its action server (with --rasa-url)")
    parser.add_argument("--frontdoor-url", help="reuse a running front door (needs --rasa-url)")
    parser.add_argument("--wechat-token", help="WECHAT_TOKEN of a reused front door")
    parser.add_argument(
        "--rasa-token",
        help="RASA_AUTH_TOKEN of a reused Rasa (default: $RASA_AUTH_TOKEN or var/rasa_auth.token)",
    )
    parser.add_argument(
        "--rest-token", help="NAME:TOKEN, an entry of a reused front door's REST_TOKENS"
    )
    parser.add_argument(
        "--wechat-api-port",
        type=int,
        help="port of the fake WeChat API (a reused front door's WECHAT_API_BASE_URL)",
    )
    parser.add_argument("--wechat-app-id", help="WECHAT_APP_ID of a reused front door")
    parser.add_argument("--wechat-app-secret", help="WECHAT_APP_SECRET of a reused front door")
    parser.add_argument("--skip-wechat", action="store_true")
    parser.add_argument(
        "--rasa-servers",
        type=int,
        default=1,
        help="2 or more: as many Rasa servers and a second front door over all of them; "
        "the scale phase compares it with the one-Rasa front door (issue 19)",
    )
    parser.add_argument(
        "--scale-levels", help="scale phase saturation concurrencies (8,16,32; quick: 16,32)"
    )
    parser.add_argument(
        "--scale-citizens", type=int, default=100, help="scale phase human-paced citizens"
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="which loads to run, comma-separated (default: all of %(default)s)",
    )
    parser.add_argument(
        "--frontdoor-cmd",
        help="command that starts the front door instead of `python -m bot` "
        "(a branch, a profiler: 'py-spy record -o fd.svg -- .venv/bin/python -m bot')",
    )
    parser.add_argument(
        "--frontdoor-root",
        type=Path,
        help="run the front door of another checkout (its own .venv), e.g. a git worktree "
        "of the commit before a change; everything else runs from this one",
    )
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--json", type=Path, default=OUT_DIR / "report.json")
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    quick = args.quick
    levels = args.levels or ("1,8,32" if quick else "1,4,8,16,32")
    return Plan(
        human_duration=args.duration or (20.0 if quick else 120.0),
        human_blocks=args.blocks or (1 if quick else 3),
        human_design=args.human_design,
        citizens=args.citizens,
        pause=(3.0, 10.0),
        levels=tuple(int(x) for x in levels.split(",")),
        level_duration=args.level_duration or (6.0 if quick else 20.0),
        level_slices=max(1, args.level_slices or (1 if quick else 2)),
        rounds=args.rounds or (1 if quick else 10),
        wechat_citizens=5 if quick else 10,
        wechat_duration=15.0 if quick else 60.0,
        wechat_burst=32,
        wechat_burst_duration=6.0 if quick else 15.0,
        seed=args.seed,
        phases=tuple(
            p
            for p in args.phases.split(",")
            if p in PHASES and (p != "scale" or args.rasa_servers > 1)
        ),
        scale_levels=tuple(
            int(x) for x in (args.scale_levels or ("16,32" if quick else "8,16,32")).split(",")
        ),
        scale_citizens=args.scale_citizens,
    )


# --- resources around each measured run ------------------------------------------


class Probe:
    """Memory at the end of each run, CPU per answered message, load average."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.samples: dict[str, dict[str, Any]] = {}

    async def measure(self, label: str, work: Any) -> Run:
        cpu_before, self_before = self.services.cpu(), _own_cpu()
        load_before = load_average()[0]
        run: Run = await work
        answered = max(1, sum(1 for t in run.turns if t.error is None))
        cpu_after = self.services.cpu() | {"benchmark": _own_cpu()}
        cpu_before["benchmark"] = self_before
        self.samples[label] = {
            "rss_mb": self.services.memory(),
            "cpu_ms_per_msg": {
                name: round((after - (cpu_before.get(name) or 0)) * 1000 / answered, 1)
                for name, after in cpu_after.items()
                if after is not None
            },
            "loadavg": [load_before, load_average()[0]],
        }
        return run

    def merge(self, label: str, parts: list[str], weights: list[int]) -> None:
        """Replace the samples ``parts`` by one: CPU per message weighted by
        messages, memory at the end of the last part, load before the first
        and after the last."""
        samples = [self.samples.pop(part) for part in parts]
        total = sum(weights)
        names = set().union(*(s["cpu_ms_per_msg"] for s in samples))
        self.samples[label] = {
            "rss_mb": samples[-1]["rss_mb"],
            "cpu_ms_per_msg": {
                name: round(
                    sum(
                        s["cpu_ms_per_msg"].get(name, 0.0) * w
                        for s, w in zip(samples, weights, strict=True)
                    )
                    / total,
                    1,
                )
                for name in sorted(names)
            },
            "loadavg": [samples[0]["loadavg"][0], samples[-1]["loadavg"][1]],
        }


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the phases ----------------------------------------------------------------------


@dataclass
class Paths:
    rasa: RestPath
    rest: RestPath
    ws: WebChatPath
    wechat: WeChatPath | None
    #: The front door over several Rasa servers (--rasa-servers 2 or more).
    pool: RestPath | None = None

    def all(self) -> list[ClientPath]:
        every = (self.rasa, self.rest, self.ws, self.wechat, self.pool)
        return [p for p in every if p is not None]


async def phase_reference(paths: Paths, reference: Reference) -> dict[str, Any]:
    log.info("recording the reference replies on Rasa directly, warming up")
    runs = [await record_reference(paths.rasa, reference)]
    warmed = [paths.rest, paths.ws] + ([paths.pool] if paths.pool is not None else [])
    runs += [await warm_up(path, reference) for path in warmed]
    warm = {run.path: summarize(run) for run in runs}
    return {"replies": reference.as_dict(), "warm_up": warm, "runs": runs}


async def phase_sequential(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Run]:
    log.info("single conversation, %d rounds, paths interleaved", plan.rounds)
    runs: dict[str, Run] = {}

    async def all_paths() -> Run:
        runs.update(await sequential([paths.rasa, paths.rest, paths.ws], plan.rounds, reference))
        merged = Run("all", 0.0)
        merged.turns = [turn for run in runs.values() for turn in run.turns]
        return merged

    await probe.measure("sequential (all paths)", all_paths())
    return runs


async def phase_human(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Run]:
    if plan.human_design == "mixed":
        return await _human_mixed(paths, plan, reference, probe)
    return await _human_blocks(paths, plan, reference, probe)


async def _human_mixed(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Run]:
    """The three paths side by side, ``plan.citizens`` citizens spread over
    them (benchmark_load.run_mixed_load), in ``human_blocks`` blocks that
    shift which citizen uses which path, so each citizen's scripts and pauses
    run on every path. The phase lasts as long as the blocks design (three
    times ``human_duration``) and each path answers about as many messages;
    what changes is that no path's figures come from a different stretch of
    time than another's."""
    order = [paths.rasa, paths.rest, paths.ws]
    block = plan.human_duration * len(order) / plan.human_blocks
    blocks: dict[str, list[Run]] = {path.name: [] for path in order}
    labels: list[str] = []
    answered: list[int] = []
    for number in range(plan.human_blocks):
        load = Load(plan.citizens, block, plan.pause, plan.seed + number)
        log.info(
            "human-paced: %d citizens over %d paths side by side, %.0fs (block %d of %d)",
            load.citizens, len(order), block, number + 1, plan.human_blocks,
        )  # fmt: skip

        async def work(load: Load = load, number: int = number) -> Run:
            runs = await run_mixed_load(order, load, reference, f"human-{number}", number)
            for name, run in runs.items():
                blocks[name].append(run)
            merged = Run("all", 0.0)
            merged.turns = [turn for run in runs.values() for turn in run.turns]
            answered.append(_answered(merged))
            return merged

        labels.append(f"human all paths #{number}")
        await probe.measure(labels[-1], work())
    probe.merge("human all paths", labels, answered)
    return {path.name: merge_runs(blocks[path.name]) for path in order}


async def _human_blocks(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Run]:
    """Each path gets ``human_duration`` seconds in ``human_blocks`` blocks, the
    paths taking turns in a rotating order (rasa, rest, ws; rest, ws, rasa; ...):
    the machine's drift during the run (Rasa's CPU per turn moved by a fifth
    between consecutive two-minute runs) then falls on every path alike."""
    order = [paths.rasa, paths.rest, paths.ws]
    block = plan.human_duration / plan.human_blocks
    blocks: dict[str, list[Run]] = {path.name: [] for path in order}
    for number in range(plan.human_blocks):
        rotated = order[number % len(order) :] + order[: number % len(order)]
        for path in rotated:
            load = Load(plan.citizens, block, plan.pause, plan.seed + number)
            log.info(
                "human-paced: %d citizens, %.0fs on %s (block %d of %d)",
                load.citizens, block, path.name, number + 1, plan.human_blocks,
            )  # fmt: skip
            work = run_load(path, load, reference, f"human-{path.name}-{number}")
            blocks[path.name].append(await probe.measure(f"human {path.name} #{number}", work))
    runs = {}
    for path in order:
        labels = [f"human {path.name} #{n}" for n in range(plan.human_blocks)]
        runs[path.name] = merge_runs(blocks[path.name])
        probe.merge(f"human {path.name}", labels, [_answered(r) for r in blocks[path.name]])
    return runs


def merge_runs(runs: list[Run]) -> Run:
    """One run of a path made of its blocks (turns, conversations, time)."""
    merged = Run(runs[0].path, runs[0].started)
    for run in runs:
        merged.elapsed += run.elapsed
        merged.turns += run.turns
        merged.conversations += run.conversations
        merged.scripts += run.scripts
    return merged


def _answered(run: Run) -> int:
    return max(1, sum(1 for t in run.turns if t.error is None))


async def phase_saturation(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> list[tuple[int, dict[str, Run]]]:
    """Each level: Rasa directly and the front door's REST path, one after the
    other, each for ``level_duration`` seconds in ``level_slices`` slices
    taken in turn (A B B A ...): this VM's speed drifts by a fifth within
    minutes, and one 20 s stretch per path let the drift decide a level
    (2026-12-03: Rasa's own peak 22.1 msg/s at 4 citizens, 16.4 at 32)."""
    pair = (paths.rasa, paths.rest)
    return await alternate_levels(pair, plan.levels, plan, reference, probe, "sat", plan.seed)


async def alternate_levels(
    pair: tuple[ClientPath, ClientPath],
    concurrencies: tuple[int, ...],
    plan: Plan,
    reference: Reference,
    probe: Probe,
    tag: str,
    seed: int,
) -> list[tuple[int, dict[str, Run]]]:
    """Each level: both paths of ``pair`` for ``level_duration`` seconds
    each, in ``level_slices`` slices taken in turn (A B B A ...; B leads on
    odd levels). Probe samples are labelled ``"<tag> c=<level> <path>"``."""
    levels = []
    slices = plan.level_slices
    for number, citizens in enumerate(concurrencies):
        load = Load(citizens, plan.level_duration / slices, None, seed + number)
        first = list(pair) if number % 2 == 0 else list(pair[::-1])
        parts: dict[str, list[Run]] = {path.name: [] for path in first}
        for piece in range(slices):
            for path in first if piece % 2 == 0 else first[::-1]:
                log.info(
                    "%s: %d citizens, %.0fs on %s (slice %d of %d)",
                    tag, citizens, load.duration, path.name, piece + 1, slices,
                )  # fmt: skip
                work = run_load(path, load, reference, f"{tag}{citizens}-{path.name}-{piece}")
                label = f"{tag} c={citizens} {path.name} #{piece}"
                parts[path.name].append(await probe.measure(label, work))
        runs = {}
        for name, pieces in parts.items():
            labels = [f"{tag} c={citizens} {name} #{piece}" for piece in range(slices)]
            probe.merge(f"{tag} c={citizens} {name}", labels, [_answered(r) for r in pieces])
            runs[name] = merge_runs(pieces)
        levels.append((citizens, runs))
    return levels


async def phase_scale(
    paths: Paths, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Any]:
    """Two (or more) Rasa servers against one, same run, same machine: at
    each saturation level the one-Rasa front door and the pool front door
    take turns in slices (A B B A ...), then ``scale_citizens`` human-paced
    citizens on the pool front door. Runs of both front doors are returned
    under ``runs`` for the transcript audits."""
    assert paths.pool is not None
    single, pool = paths.rest, paths.pool
    found = await alternate_levels(
        (single, pool), plan.scale_levels, plan, reference, probe, "scale", plan.seed + 100
    )
    levels = [
        {"concurrency": c, **{name: summarize(run) for name, run in by_path.items()}}
        for c, by_path in found
    ]
    runs = [run for _, by_path in found for run in by_path.values()]
    load = Load(plan.scale_citizens, plan.human_duration, plan.pause, plan.seed + 200)
    log.info("scale: %d human-paced citizens, %.0fs on %s", load.citizens, load.duration, pool.name)
    human = await probe.measure(
        f"scale human {pool.name}", run_load(pool, load, reference, "scale-human")
    )
    runs.append(human)
    return {"saturation": levels, "human": summarize(human), "runs": runs}


async def phase_wechat(
    path: WeChatPath, plan: Plan, reference: Reference, probe: Probe
) -> dict[str, Run]:
    paced = Load(plan.wechat_citizens, plan.wechat_duration, (1.0, 3.0), plan.seed)
    burst = Load(plan.wechat_burst, plan.wechat_burst_duration, None, plan.seed)
    runs = {}
    for name, load in (("paced", paced), (f"burst c={burst.citizens}", burst)):
        log.info("wechat %s: %d citizens, %.0fs", name, load.citizens, load.duration)
        work = run_load(path, load, reference, f"wechat-{name[:5]}")
        runs[name] = await probe.measure(f"wechat {name}", work)
    return runs


# --- the whole run -------------------------------------------------------------------


def open_paths(services: Services, api: FakeWeChatApi, skip_wechat: bool) -> Paths:
    front = services.services["frontdoor"].url
    token = services.wechat_token
    wechat = None if skip_wechat or not token else WeChatPath(front, token, api)
    pool_service = services.services.get("frontdoor-pool")
    pool = None
    if pool_service is not None:
        pool = RestPath(POOL_PATH, pool_service.url, True, services.rest_token, services.rest_name)
    return Paths(
        RestPath("rasa", services.services["rasa"].url, False, services.rasa_token),
        RestPath("frontdoor-rest", front, True, services.rest_token, services.rest_name),
        WebChatPath(front),
        wechat,
        pool,
    )


async def run_benchmark(services: Services, plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    api = FakeWeChatApi(services.wechat_app_id, services.wechat_app_secret)
    await api.start(services.options.wechat_api_port)
    await services.wait_ready()
    paths = open_paths(services, api, args.skip_wechat)
    probe = Probe(services)
    reference = Reference()
    report: dict[str, Any] = {"meta": meta(services, plan, args), "phases": {}}
    all_runs: list[Run] = []
    try:
        ref = await phase_reference(paths, reference)
        all_runs += ref.pop("runs")
        report["reference"] = ref
        pool_runs = [run for run in all_runs if run.path == POOL_PATH]
        all_runs = [run for run in all_runs if run.path != POOL_PATH]
        await _phases(paths, plan, reference, probe, report, all_runs)
        pool_runs += [run for run in all_runs if run.path == POOL_PATH]
        all_runs = [run for run in all_runs if run.path != POOL_PATH]
        report["audit"] = audit_transcripts(services.transcript_db, all_runs)
        if paths.pool is not None:
            report["audit_pool"] = audit_transcripts(services.pool_transcript_db, pool_runs)
    finally:
        for path in paths.all():
            await path.close()
        await api.close()
    report["resources"] = probe.samples
    report["meta"]["loadavg_end"] = load_average()
    report["targets"] = [asdict(t) | {"verdict": t.verdict} for t in evaluate(report)]
    return report


async def _phases(
    paths: Paths,
    plan: Plan,
    reference: Reference,
    probe: Probe,
    report: dict[str, Any],
    all_runs: list[Run],
) -> None:
    phases, wanted = report["phases"], plan.phases
    if "sequential" in wanted:
        seq = await phase_sequential(paths, plan, reference, probe)
        phases["sequential"] = {name: summarize(run) for name, run in seq.items()}
        for name, run in seq.items():
            if name != "rasa" and "rasa" in seq:
                phases["sequential"][name]["paired_with_rasa"] = paired_added_ms(run, seq["rasa"])
        all_runs += seq.values()
    if "human" in wanted:
        human = await phase_human(paths, plan, reference, probe)
        phases["human"] = {name: summarize(run) for name, run in human.items()}
        all_runs += human.values()
    if "saturation" in wanted:
        sat = await phase_saturation(paths, plan, reference, probe)
        phases["saturation"] = [
            {"concurrency": c, **{name: summarize(run) for name, run in runs.items()}}
            for c, runs in sat
        ]
        all_runs += [run for _, runs in sat for run in runs.values()]
    if paths.pool is not None and "scale" in wanted:
        scale = await phase_scale(paths, plan, reference, probe)
        all_runs += scale.pop("runs")
        phases["scale"] = scale
    if paths.wechat is not None and "wechat" in wanted:
        wechat = await phase_wechat(paths.wechat, plan, reference, probe)
        phases["wechat"] = {name: summarize(run) for name, run in wechat.items()}
        all_runs += wechat.values()


def meta(services: Services, plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "git_commit": _git_commit(ROOT),
        "frontdoor_commit": _git_commit(args.frontdoor_root or ROOT),
        "python": platform.python_version(),
        "cpus": _cpu_count(),
        "loadavg_start": load_average(),
        "model": models[-1].name if models else None,
        "store": "redis" if args.redis else "memory",
        "rasa_servers": args.rasa_servers,
        "services": {n: {"url": s.url, "pid": s.pid} for n, s in services.services.items()},
        "plan": asdict(plan),
    }


def _cpu_count() -> int:
    return os.cpu_count() or 0


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _stop_on_sigterm(*_args: object) -> None:
    raise KeyboardInterrupt


def check_model(args: argparse.Namespace) -> None:
    if not args.rasa_url and not any((ROOT / "models").glob("*.tar.gz")):
        raise SystemExit("no trained model in models/: run `make train` first")


def build_services(args: argparse.Namespace) -> Services:
    options = Options(
        rasa_url=args.rasa_url,
        frontdoor_url=args.frontdoor_url,
        action_server_url=args.action_server_url,
        redis=args.redis,
        redis_url=args.redis_url,
        wechat_token=args.wechat_token,
        rasa_token=args.rasa_token,
        rest_token=args.rest_token,
        wechat_api_port=args.wechat_api_port or free_port(),
        log_dir=OUT_DIR / "logs",
        startup_timeout=args.startup_timeout,
        frontdoor_cmd=shlex.split(args.frontdoor_cmd) if args.frontdoor_cmd else None,
        frontdoor_root=args.frontdoor_root.resolve() if args.frontdoor_root else None,
        rasa_servers=max(1, args.rasa_servers),
    )
    services = Services(options)
    services.wechat_app_id = args.wechat_app_id or services.wechat_app_id
    services.wechat_app_secret = args.wechat_app_secret or services.wechat_app_secret
    return services


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    sys.stdout.write(format_report(report) + f"\n\nJSON report: {path}\n")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    args = parse_args(argv)
    check_model(args)
    plan = make_plan(args)
    services = build_services(args)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.monotonic()
    try:
        with services:
            report = asyncio.run(run_benchmark(services, plan, args))
    except KeyboardInterrupt:
        log.warning("interrupted: every process started by the benchmark was stopped")
        return 130
    except Exception as exc:  # the processes are stopped; say where to look
        log.exception("benchmark failed: %s (logs in %s)", exc, services.options.log_dir)
        return 2
    report["meta"]["duration_s"] = round(time.monotonic() - started, 1)
    write_report(report, args.json)
    return 0 if all(t["verdict"] != "FAIL" for t in report["targets"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
