"""Shorts to ``video.mp4``: 1080×1920, H.264 + AAC, 30 fps, one scene per beat.

Each segment of the script (hook, beats, call to action) is spoken (see :mod:`.voice`),
and its captions are timed inside the real length of its audio; each caption block is a
still frame drawn with Pillow (the beat's on-screen text above, the caption burnt in
within the safe area), and the ffmpeg that ``imageio-ffmpeg`` ships encodes them with
the voice in a subprocess, so neither the scheduler nor the GIL waits on the encoder.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..content.render import caption_chunks, one_line, srt_time
from .errors import VisualsError
from .layout import background, draft_mark, draw_block, fit, paste_logo, png_bytes
from .palette import REGULAR, Brand
from .shapes import VIDEO
from .voice import Speech, join, silence, speak, wav_seconds

if TYPE_CHECKING:
    from PIL import Image

    from ..config.models import Config
    from ..operations.resources import ChildLimits

FPS = 30
PRESET = "veryfast"
"""x264 preset: a 45 s short encodes in a few seconds on 2 cores at this setting."""
TAIL_S = 0.25


@dataclass
class Segment:
    """One part of the script: what is said and what is shown."""

    label: str
    spoken: str
    on_screen: str
    planned_s: float


@dataclass
class Cue:
    start: float
    end: float
    text: str
    segment: int


@dataclass
class Video:
    """A rendered short."""

    mp4: bytes
    duration_s: float
    srt: str
    speech: Speech
    cues: list[Cue] = field(default_factory=list)


def ffmpeg() -> str:
    """The ffmpeg binary that ``imageio-ffmpeg`` ships (``pip install .`` is enough)."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def fitted(segments: list[Segment], target_s: float | None) -> list[Segment]:
    """``segments`` with planned lengths scaled to add up to ``target_s``."""
    total = sum(s.planned_s for s in segments)
    if not target_s or total <= 0 or abs(total - target_s) / target_s < 0.03:
        return segments
    k = target_s / total
    return [Segment(s.label, s.spoken, s.on_screen, s.planned_s * k) for s in segments]


MAX_TEMPO = 1.6
"""The most a voice is sped up to fit the target length (ffmpeg ``atempo``, pitch kept)."""


def paced(speech: Speech, segments: list[Segment], target_s: float | None) -> Speech:
    """``speech`` sped up (at most :data:`MAX_TEMPO`) when it runs past ``target_s`` + 5 %."""
    if speech.silent or not target_s:
        return speech
    said = sum(wav_seconds(c) for c in speech.clips) + TAIL_S * len(segments)
    if said <= target_s * 1.05:
        return speech
    room = max(1.0, target_s - TAIL_S * len(segments))
    tempo = min(MAX_TEMPO, (said - TAIL_S * len(segments)) / room)
    with tempfile.TemporaryDirectory(prefix="amgr-voice-") as tmp:
        clips = []
        for n, clip in enumerate(speech.clips):
            src, dst = Path(tmp) / f"in-{n}.wav", Path(tmp) / f"out-{n}.wav"
            src.write_bytes(clip)
            done = subprocess.run(
                [
                    ffmpeg(),
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-y",
                    "-i",
                    str(src),
                    "-filter:a",
                    f"atempo={tempo:.4f}",
                    "-c:a",
                    "pcm_s16le",
                    "-map_metadata",
                    "-1",
                    "-fflags",
                    "+bitexact",
                    str(dst),
                ],
                capture_output=True,
                check=False,
            )
            if done.returncode != 0:
                raise VisualsError(
                    "tts", "ffmpeg could not pace the voice-over", "check `pip show imageio-ffmpeg`"
                )
            clips.append(dst.read_bytes())
    note = f"voice sped up {tempo:.2f}× to fit {target_s:g} s"
    note = f"{speech.note}; {note}" if speech.note else note
    return Speech(speech.provider, clips, speech.chars, speech.cost_usd, note, speech.calls)


def timed(segments: list[Segment], speech: Speech) -> tuple[list[float], list[Cue]]:
    """Each segment's span and the caption cues, from the real audio lengths."""
    spans, cues, t = [], [], 0.0
    for i, seg in enumerate(segments):
        said = wav_seconds(speech.clips[i]) if not speech.silent else seg.planned_s - TAIL_S
        span = max(seg.planned_s, said + TAIL_S)
        chunks = caption_chunks(seg.spoken, width=24, lines=2) or [""]
        weights = [max(1, len(c)) for c in chunks]
        at = t
        for chunk, weight in zip(chunks, weights, strict=True):
            length = said * weight / sum(weights)
            cues.append(Cue(at, at + length, chunk, i))
            at += length
        cues[-1].end = t + span
        spans.append(span)
        t += span
    return spans, cues


def srt_of(cues: list[Cue]) -> str:
    """The cues as SRT (blank captions dropped)."""
    blocks = []
    for n, cue in enumerate([c for c in cues if c.text.strip()], 1):
        blocks.append(f"{n}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n{cue.text}\n")
    return "\n".join(blocks)


def scene(
    seg: Segment, caption: str, brand: Brand, topic: str, index: int, offline: bool, end: bool
) -> Image.Image:
    """One frame: the beat's on-screen words above, the caption in the safe area below."""
    from PIL import Image, ImageDraw

    w = VIDEO[0]
    palette = brand.palette(f"{topic} {index}" if not brand.colors else topic)
    img = background(VIDEO, palette)
    draw = ImageDraw.Draw(img)
    margin = 90
    inner = w - 2 * margin
    title_font = brand.title_font()
    if end:
        head = fit(draw, seg.on_screen, title_font, (inner, 700), max_size=120, min_size=40)
        draw_block(draw, head, (margin, 420), palette.text, align="center", width=inner)
        ask = fit(draw, "Follow for more", REGULAR, (inner, 120), max_size=64, max_lines=1)
        draw_block(draw, ask, (margin, 1180), palette.accent, align="center", width=inner)
    else:
        head = fit(draw, seg.on_screen, title_font, (inner, 560), max_size=110, min_size=40)
        draw_block(draw, head, (margin, 300), palette.text, align="center", width=inner)
    if caption.strip():
        text = fit(draw, one_line(caption), REGULAR, (inner - 60, 260), max_size=66, min_size=30)
        top = 1300
        box = Image.new("RGBA", (inner, text.height + 60), (0, 0, 0, 170))
        img.paste(box, (margin, top - 30), box)
        draw_block(
            draw, text, (margin + 30, top), (255, 255, 255), align="center", width=inner - 60
        )
    paste_logo(img, brand)
    if offline:
        draft_mark(img, palette)
    return img


def render_short(
    segments: list[Segment],
    *,
    config: Config,
    brand: Brand,
    topic: str,
    offline: bool,
    target_s: float | None = None,
    language: str = "en",
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    speech: Speech | None = None,
    limits: ChildLimits | None = None,
) -> Video:
    """Speak, time, draw and encode ``segments``; ``speech`` reuses a voice already made.

    :param limits: the task's ``resources`` as limits of the encoder process
        (``RLIMIT_AS``, CPU time, ``nice``); past them the render fails, never the daemon.
    """
    segments = fitted(segments, target_s)
    if speech is None:
        speech = speak(
            config, [s.spoken for s in segments], [s.planned_s for s in segments], language
        )
    spans, cues = timed(segments, speech)
    total = sum(spans)
    with tempfile.TemporaryDirectory(prefix="amgr-video-") as tmp:
        work = Path(tmp)
        listing = ["ffconcat version 1.0"]
        for n, cue in enumerate(cues):
            frame = work / f"frame-{n:03d}.png"
            last_segment = cue.segment == len(segments) - 1
            img = scene(
                segments[cue.segment], cue.text, brand, topic, cue.segment, offline, last_segment
            )
            frame.write_bytes(png_bytes(img))
            listing += [f"file '{frame.name}'", f"duration {cue.end - cue.start:.3f}"]
        listing.append(f"file 'frame-{len(cues) - 1:03d}.png'")
        (work / "scenes.ffconcat").write_text("\n".join(listing) + "\n")
        audio = join(speech.clips, spans) if not speech.silent else silence(total)
        (work / "voice.wav").write_bytes(audio)
        out = work / "video.mp4"
        _encode(work, out, total, progress, cancel, limits)
        data = out.read_bytes()
    return Video(data, round(total, 3), srt_of(cues), speech, cues)


def _encode(
    work: Path,
    out: Path,
    total: float,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
    limits: ChildLimits | None = None,
) -> None:
    cmd = [
        ffmpeg(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(work / "scenes.ffconcat"),
        "-i",
        str(work / "voice.wav"),
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        PRESET,
        "-tune",
        "stillimage",
        "-crf",
        "26",
        "-threads",
        "2",
        "-r",
        str(FPS),
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ar",
        "44100",
        "-t",
        f"{total:.3f}",
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:1",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limits.apply if limits is not None else None,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if cancel is not None and cancel.is_set():
            proc.kill()
            proc.wait()
            raise VisualsError("shorts", "the render was cancelled", "run the task again")
        if line.startswith("out_time_us=") and progress is not None:
            value = line.split("=", 1)[1].strip()
            if value.isdigit() and total > 0:
                progress(min(1.0, int(value) / 1e6 / total))
    err = proc.stderr.read() if proc.stderr else ""
    code = proc.wait()
    if code != 0 and limits is not None and (code < 0 or "allocate" in err.lower()):
        mem = f"memory {limits.memory_mb:g} MB" if limits.memory_mb is not None else "its limits"
        raise VisualsError(
            "tasks.json: resources",
            f"the video render went past the task's resources ({mem}; ffmpeg exit {code})",
            "raise the task's resources (memory_mb or memory) or shorten the video",
        )
    if code != 0:
        raise VisualsError(
            "shorts", f"ffmpeg failed: {err.strip()[-300:]}", "check `pip show imageio-ffmpeg`"
        )


def probe(path: Path) -> str:
    """ffmpeg's description of a media file's streams (for tests and ``amgr check``)."""
    done = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stderr
