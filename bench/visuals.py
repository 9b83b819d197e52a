"""Bench: offline visuals — images per item, a 45 s short, and the scheduler's lateness.

Prints three figures (issue 14 targets in brackets):

- offline featured image + social card + shorts thumbnail, seconds per item [< 0.5 s];
- a 45 s short rendered offline (espeak-ng voice when on PATH, else silent): wall time
  [< 60 s on 2 cores], peak RSS of this process and of the ffmpeg encoder [< 500 MiB],
  and the x264 preset used;
- while that render runs in a worker thread, a "scheduler" thread that wakes every
  50 ms (as the daemon's ``select()`` loop does) records how late each wake-up is: the
  p50/p99 lateness shows that the render (ffmpeg in a subprocess, Pillow frames in a
  worker) does not hold the scheduler up.

Run from the repository root::

    .venv/bin/python bench/visuals.py
    .venv/bin/python bench/visuals.py --items 20 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from automation_manager.visuals.video import Segment  # noqa: E402

TOPICS = [
    "deep work",
    "sourdough baking",
    "urban gardening",
    "home espresso",
    "trail running",
    "personal finance",
    "watercolor painting",
    "language learning",
    "remote team rituals",
    "café crème à la française",
]


def images_per_item(items: int, out: Path) -> float:
    """Median seconds for featured image + card + thumbnail of one item."""
    from automation_manager.visuals import (
        Brand,
        card_size,
        render_card,
        render_featured,
        render_thumbnail,
    )

    brand = Brand()
    times = []
    for n in range(items):
        topic = TOPICS[n % len(TOPICS)]
        start = time.perf_counter()
        render_featured(
            f"A practical guide to {topic}",
            "Seven habits",
            (1200, 630),
            out / "f.png",
            brand,
            topic=topic,
        )
        render_card(
            f"The one {topic} habit that changed my week",
            "@amgr",
            card_size("mastodon"),
            out / "c.png",
            brand,
            topic=topic,
        )
        render_thumbnail(f"3 {topic} tips", out / "t.png", brand, topic=topic)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _segments() -> list[Segment]:
    beats = [
        "Tip one. Put your phone in another room for ninety minutes, every single morning.",
        "Tip two. Write the one task you will finish before you open your email or chat.",
        "Tip three. Block two hours in your calendar and defend them like a client meeting.",
        "Tip four. End each session by writing the very next step, so tomorrow starts fast.",
    ]
    segs = [
        Segment("hook", "Stop scrolling: four focus tips that actually work.", "4 focus tips", 4)
    ]
    segs += [Segment(f"beat {i}", b, f"Tip {i}", 9) for i, b in enumerate(beats, 1)]
    segs.append(Segment("call to action", "Follow for one focus idea a day.", "Follow", 5))
    return segs


def short_render(lateness: list[float]) -> dict[str, object]:
    """Render a 45 s short in a worker thread while a 50 ms ticker measures lateness."""
    from automation_manager.config.models import Config
    from automation_manager.visuals import Brand
    from automation_manager.visuals.video import PRESET, render_short

    voice = "espeak" if shutil.which("espeak-ng") else "none"
    config = Config(tts={"provider": voice})
    done = threading.Event()
    result: dict[str, object] = {}

    def render() -> None:
        start = time.perf_counter()
        video = render_short(
            _segments(),
            config=config,
            brand=Brand(),
            topic="focus",
            offline=True,
            target_s=45,
        )
        result.update(
            seconds=round(time.perf_counter() - start, 2),
            duration_s=video.duration_s,
            voice=video.speech.provider,
            mp4_bytes=len(video.mp4),
        )
        done.set()

    worker = threading.Thread(target=render)
    worker.start()
    tick = 0.05
    due = time.monotonic() + tick
    while not done.is_set():
        time.sleep(max(0.0, due - time.monotonic()))
        lateness.append(max(0.0, time.monotonic() - due))
        due += tick
    worker.join()
    result["preset"] = PRESET
    result["rss_self_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    result["rss_ffmpeg_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_item = images_per_item(args.items, Path(tmp))
    lateness: list[float] = []
    short = short_render(lateness)
    ms = sorted(x * 1000 for x in lateness)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0
    figures = {
        "images_per_item_s": round(per_item, 3),
        "short": short,
        "scheduler_lateness_ms": {
            "ticks": len(ms),
            "p50": round(statistics.median(ms), 1) if ms else 0.0,
            "p99": round(p99, 1),
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"offline featured + card + thumbnail: {per_item:.3f} s per item (target < 0.5 s)")
    print(
        f"45 s short offline: {short['seconds']} s wall for {short['duration_s']} s of video "
        f"(target < 60 s), voice {short['voice']}, x264 preset {short['preset']}"
    )
    print(
        f"  peak RSS: this process {short['rss_self_mib']} MiB, ffmpeg {short['rss_ffmpeg_mib']} "
        "MiB (target < 500 MiB)"
    )
    late: Any = figures["scheduler_lateness_ms"]
    print(
        f"scheduler ticks during the render: {late['ticks']}, lateness p50 {late['p50']} ms, "
        f"p99 {late['p99']} ms"
    )


if __name__ == "__main__":
    main()
