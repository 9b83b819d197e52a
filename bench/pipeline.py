"""Bench: the content pipeline's figures (issue 13). Prints them; not a timed test.

1. Import of 10,000 keywords (a text file through ``amgr keywords import``'s code).
2. Stages 1–3 offline over those 10,000 keywords: wall time, peak RSS of the process,
   clustering cost per keyword.
3. A 50-article stage 4 against the fake OpenAI server (``tests/openai_server``) that
   answers every call after ``--delay`` s, with the stage's ``concurrency``: the wall time
   next to the ideal ``ceil(50 / concurrency) × delay``, warm (``llm.prewarm`` first, as
   a daemon does at start); the whole ``exec-now`` and the stage's own time.
4. Offline clustering quality on ``bench/data/keywords_labelled.csv`` (360 keywords over
   10 topics): purity and adjusted Rand index.

Run it from the repository root::

    .venv/bin/python bench/pipeline.py
    .venv/bin/python bench/pipeline.py --keywords 10000 --articles 50 --concurrency 10
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from click.testing import CliRunner  # noqa: E402

from automation_manager.cli import cli  # noqa: E402

LABELLED = ROOT / "bench" / "data" / "keywords_labelled.csv"


def amgr(home: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    if result.exit_code != 0:
        raise SystemExit(f"amgr {' '.join(args)} failed: {result.output}")
    return result


def make_home(root: Path, task: dict[str, Any]) -> Path:
    home = root / "home"
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ.pop("OPENAI_BASE_URL", None)
    CliRunner().invoke(cli, ["init", str(home)])
    tasks = json.loads((home / "tasks.json").read_text())
    tasks.setdefault("content_creation", []).append(task)
    (home / "tasks.json").write_text(json.dumps(tasks))
    return home


def synthetic(count: int) -> list[str]:
    """``count`` distinct keywords: the labelled set's head terms with modifiers."""
    rows = list(csv.DictReader(LABELLED.open()))
    heads = sorted({r["keyword"] for r in rows})
    rng = random.Random(13)
    extra = [
        "for kids",
        "in winter",
        "for small spaces",
        "on a budget",
        "uk",
        "usa",
        "indoor",
        "outdoor",
        "organic",
        "fast",
        "advanced",
        "pro",
        "mini",
        "large",
        "2025",
        "2026",
        "checklist",
        "template",
        "course",
        "book",
        "video",
        "app",
        "kit",
        "near me",
    ]
    out: set[str] = set()
    while len(out) < count:
        out.add(f"{rng.choice(heads)} {rng.choice(extra)} {rng.randint(1, 60)}")
    return sorted(out)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_import_and_stages(root: Path, count: int) -> dict[str, Any]:
    task = {
        "id": "big",
        "type": "pipeline",
        "ideas_per_cluster": 1,
        "stages": {n: {"enabled": False} for n in ("content", "image_prompts", "images", "review")},
    }
    task["stages"]["clusters"] = {"batch_size": 500}
    task["stages"]["tasks"] = {"batch_size": 500}
    home = make_home(root, task)
    path = root / "kw.txt"
    path.write_text("\n".join(synthetic(count)) + "\n")
    began = time.perf_counter()
    amgr(home, "keywords", "import", "big", str(path))
    imported = time.perf_counter() - began
    began = time.perf_counter()
    amgr(home, "exec-now", "content_creation", "pipeline", "--task", "big")
    stages = time.perf_counter() - began
    runs = json.loads(amgr(home, "runs", "list", "--task", "big", "--json").output)["runs"]
    detail = json.loads(amgr(home, "runs", "show", runs[-1]["id"], "--json").output)
    s1 = detail["stages"]["clusters"]
    return {
        "keywords": count,
        "import_s": round(imported, 3),
        "stages_1_3_s": round(stages, 2),
        "peak_rss_mib": round(rss_mib(), 1),
        "clusters": s1["clusters_created"],
        "clustering_ms_per_keyword": round(1000 * s1["time_elapsed_s"] / count, 3),
        "ideas": detail["stages"]["ideas"]["ideas_created"],
        "tasks": detail["stages"]["tasks"]["tasks_created"],
    }


def bench_articles(root: Path, articles: int, concurrency: int, delay: float) -> dict[str, Any]:
    from openai_server import FakeOpenAI

    seeds = [
        "sourdough starter",
        "espresso grinder",
        "marathon training",
        "aquarium filter",
        "camping tent",
    ]
    task = {
        "id": "fifty",
        "type": "pipeline",
        "ideas_per_cluster": min(20, math.ceil(articles / len(seeds))),
        "min_keywords": 1,
        "stages": {
            "content": {
                "enabled": False,
                "batch_size": articles,
                "max_per_run": articles,
                "concurrency": concurrency,
            },
            "image_prompts": {"enabled": False},
            "images": {"enabled": False},
            "review": {"enabled": False},
        },
    }
    home = make_home(root, task)
    amgr(home, "keywords", "add", "fifty", *seeds)
    amgr(home, "exec-now", "content_creation", "pipeline", "--task", "fifty")  # offline 1–3
    tasks = json.loads((home / "tasks.json").read_text())
    stages = tasks["content_creation"][-1]["stages"]
    for name in ("clusters", "ideas", "tasks"):
        stages[name] = {"enabled": False}
    stages["content"]["enabled"] = True
    (home / "tasks.json").write_text(json.dumps(tasks))
    with FakeOpenAI(delay=delay) as server:
        config = json.loads((home / "config.json").read_text())
        config["llm"]["base_url"] = server.url
        (home / "config.json").write_text(json.dumps(config))
        os.environ["OPENAI_API_KEY"] = "sk-bench-0000000000000000"
        from automation_manager import AutomationManager
        from automation_manager.llm import prewarm

        # a warm daemon: openai imported and its pool open before the timed pass
        prewarm(AutomationManager(home).workspace.config.llm)

        began, wall_began = time.perf_counter(), time.time()
        amgr(home, "exec-now", "content_creation", "pipeline", "--task", "fifty")
        wall = time.perf_counter() - began
        first_call = server.chat_requests()[0].at - wall_began
        last_call = server.chat_requests()[-1].at - wall_began
        calls = len(server.chat_requests())
        if os.environ.get("BENCH_TRACE"):
            t0 = server.chat_requests()[0].at
            print("request arrivals (s):", [round(r.at - t0, 2) for r in server.chat_requests()])
    runs = json.loads(amgr(home, "runs", "list", "--task", "fifty", "--json").output)["runs"]
    detail = json.loads(amgr(home, "runs", "show", runs[-1]["id"], "--json").output)
    stage_s = float(detail["stages"]["content"]["time_elapsed_s"])
    os.environ.pop("OPENAI_API_KEY", None)
    ideal = math.ceil(articles / concurrency) * delay
    return {
        "articles": articles,
        "concurrency": concurrency,
        "delay_s": delay,
        "calls": calls,
        "wall_s": round(wall, 2),
        "ideal_s": ideal,
        "over_ideal_pct": round(100 * (wall - ideal) / ideal, 1),
        "stage_s": round(stage_s, 2),
        "first_call_s": round(first_call, 2),
        "last_call_s": round(last_call, 2),
        "stage_over_ideal_pct": round(100 * (stage_s - ideal) / ideal, 1),
    }


def bench_quality() -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score

    from automation_manager.pipeline.cluster import (
        DISTANCE_THRESHOLD,
        MERGE_SIMILARITY,
        cluster_keywords,
        purity,
    )

    rows = list(csv.DictReader(LABELLED.open()))
    keywords = [r["keyword"] for r in rows]
    truth = [r["topic"] for r in rows]
    out: dict[str, Any] = {
        "keywords": len(rows),
        "topics": len(set(truth)),
        "distance_threshold": DISTANCE_THRESHOLD,
        "merge_similarity": MERGE_SIMILARITY,
    }
    for batch in (50, 200, len(rows)):
        existing: list[tuple[int, list[str]]] = []
        label: dict[int, int] = {}
        for start in range(0, len(keywords), batch):
            part = keywords[start : start + batch]
            for group in cluster_keywords(part, None, existing):
                if group.joins is None:
                    existing.append((len(existing) + 1, list(group.keywords)))
                    cid = len(existing)
                else:
                    cid = group.joins
                    existing[cid - 1][1].extend(group.keywords)
                for i in group.members:
                    label[start + i] = cid
        pred = [label[i] for i in range(len(keywords))]
        out[f"batch_{batch}"] = {
            "clusters": len(existing),
            "purity": round(purity(truth, pred), 3),
            "adjusted_rand": round(adjusted_rand_score(truth, pred), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        figures["quality"] = bench_quality()
        figures["scale"] = bench_import_and_stages(Path(tmp) / "a", args.keywords)
        figures["articles"] = bench_articles(
            Path(tmp) / "b", args.articles, args.concurrency, args.delay
        )
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    q, s, a = figures["quality"], figures["scale"], figures["articles"]
    print(
        f"clustering quality ({q['keywords']} keywords, {q['topics']} topics, "
        f"threshold {q['distance_threshold']}, merge {q['merge_similarity']}):"
    )
    for key in (k for k in q if k.startswith("batch_")):
        v = q[key]
        print(
            f"  {key:<10} {v['clusters']:>4} clusters  purity {v['purity']:.3f}  "
            f"ARI {v['adjusted_rand']:.3f}"
        )
    print(f"import {s['keywords']} keywords: {s['import_s']:.2f} s (target < 2 s)")
    print(
        f"stages 1-3 offline: {s['stages_1_3_s']:.2f} s (target < 30 s), peak RSS "
        f"{s['peak_rss_mib']:.0f} MiB (target < 300), {s['clusters']} clusters, "
        f"{s['clustering_ms_per_keyword']:.3f} ms per keyword clustered"
    )
    print(
        f"stage 4: {a['articles']} articles, concurrency {a['concurrency']}, "
        f"{a['delay_s']:g} s per call: {a['wall_s']:.2f} s vs ideal {a['ideal_s']:.2f} s "
        f"({a['over_ideal_pct']:+.1f} %, target within 15 %); the stage itself "
        f"{a['stage_s']:.2f} s ({a['stage_over_ideal_pct']:+.1f} %); first call after "
        f"{a['first_call_s']:.2f} s, last call sent at {a['last_call_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
