"""The shorts' voice-over: an OpenAI-compatible speech endpoint, ``espeak-ng``, or none.

Each segment (hook, beats, call to action) is spoken separately, so the video and the
SRT are timed from the real audio of each one, not from a words-per-second guess.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import VisualsError

if TYPE_CHECKING:
    from ..config.models import Config
    from .make import Studio
    from .video import Segment

MIN_WPM, MAX_WPM = 110, 260


@dataclass
class Speech:
    """What was said: one WAV per segment (empty for a silent video)."""

    provider: str
    """``openai model VOICE``, ``espeak-ng`` or ``none``."""
    clips: list[bytes] = field(default_factory=list)
    chars: int = 0
    cost_usd: float = 0.0
    note: str = ""
    calls: int = 0
    """Clips bought from a speech model in this run (0 when they came from the cache)."""

    @property
    def silent(self) -> bool:
        return not self.clips


def wav_seconds(data: bytes) -> float:
    """The duration of a WAV file's audio."""
    with wave.open(io.BytesIO(data)) as w:
        frames: int = w.getnframes()
        rate: int = w.getframerate()
        return frames / float(rate)


def choose(config: Config) -> str:
    """``openai``, ``espeak`` or ``none``: the voice ``tts`` selects here."""
    provider = config.tts.provider
    if provider == "auto":
        return "espeak" if shutil.which("espeak-ng") else "none"
    return provider


def speak(config: Config, texts: list[str], seconds: list[float], language: str = "en") -> Speech:
    """Say each of ``texts``; espeak's rate is set so each fits its ``seconds``."""
    kind = choose(config)
    if kind == "none":
        why = "tts.provider is none" if config.tts.provider == "none" else "no espeak-ng on PATH"
        return Speech("none", note=f"silent video: {why} (apt-get install espeak-ng, or set tts)")
    if kind == "espeak":
        return _espeak(texts, seconds, language)
    return _openai(config, texts)


def _espeak(texts: list[str], seconds: list[float], language: str) -> Speech:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise VisualsError(
            "config.json: tts.provider",
            "espeak-ng is not on PATH",
            "apt-get install espeak-ng, or set tts.provider to auto, openai or none",
        )
    clips = []
    for text, span in zip(texts, seconds, strict=True):
        words = max(1, len(text.split()))
        wpm = round(min(MAX_WPM, max(MIN_WPM, words * 60 / max(0.8, span - 0.4))))
        done = subprocess.run(
            [exe, "-v", language or "en", "-s", str(wpm), "--stdout", text],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0 and language != "en":
            done = subprocess.run(
                [exe, "-v", "en", "-s", str(wpm), "--stdout", text],
                capture_output=True,
                timeout=60,
                check=False,
            )
        if done.returncode != 0 or not done.stdout:
            raise VisualsError(
                "config.json: tts.provider",
                f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[:200]}",
                "check `espeak-ng --version`, or set tts.provider to none",
            )
        clips.append(_fix_stream_wav(done.stdout))
    return Speech("espeak-ng", clips, sum(len(t) for t in texts))


def _fix_stream_wav(data: bytes) -> bytes:
    """espeak-ng's ``--stdout`` WAV has placeholder sizes (it cannot seek): rewrite them."""
    if data[:4] != b"RIFF" or data[36:40] != b"data":
        return data
    import struct

    channels, rate, _, _, bits = struct.unpack("<HIIHH", data[22:36])
    frames = data[44:]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(frames[: len(frames) - len(frames) % (channels * bits // 8)])
    return out.getvalue()


def _openai(config: Config, texts: list[str]) -> Speech:
    from .client import endpoint_for, openai_client, with_retries

    tts = config.tts
    client = openai_client(config, tts.base_url, tts.api_key_env, tts.timeout_s)
    where = endpoint_for(config, tts.base_url, tts.api_key_env)
    clips = []
    for text in texts:

        def send(text: str = text) -> bytes:
            reply = client.audio.speech.create(
                model=tts.model, voice=tts.voice, input=text, response_format="wav"
            )
            return reply.read()

        data = with_retries(send, section="tts", model=tts.model, where=where, retries=3)
        try:
            wav_seconds(data)
        except (wave.Error, EOFError):
            raise VisualsError(
                "config.json: tts.model",
                f"{tts.model} did not answer a WAV file",
                "use a speech model that supports response_format wav",
            ) from None
        clips.append(data)
    chars = sum(len(t) for t in texts)
    cost = round(chars / 1000 * tts.price_per_1k_chars, 6)
    return Speech(f"openai {tts.model} {tts.voice}", clips, chars, cost, calls=len(clips))


def silence(seconds: float, rate: int = 22050) -> bytes:
    """A mono 16-bit WAV of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * round(seconds * rate))
    return out.getvalue()


def join(clips: list[bytes], spans: list[float]) -> bytes:
    """One WAV: each clip followed by silence up to its span (clips share one format)."""
    out = io.BytesIO()
    params = None
    with wave.open(out, "wb") as dst:
        for clip, span in zip(clips, spans, strict=True):
            with wave.open(io.BytesIO(clip)) as src:
                if params is None:
                    params = (src.getnchannels(), src.getsampwidth(), src.getframerate())
                    dst.setnchannels(params[0])
                    dst.setsampwidth(params[1])
                    dst.setframerate(params[2])
                elif (src.getnchannels(), src.getsampwidth(), src.getframerate()) != params:
                    raise VisualsError(
                        "config.json: tts", "the clips differ in format", "use one voice"
                    )
                frames = src.readframes(src.getnframes())
            width = params[0] * params[1]
            want = round(span * params[2]) * width
            dst.writeframes(frames[:want] + b"\0" * max(0, want - len(frames)))
    return out.getvalue()


def cached_speech(studio: Studio, segments: list[Segment], language: str = "en") -> Speech:
    """The voice of ``segments``; a model's clips come from the cache when already bought."""
    config = studio.config
    texts = [s.spoken for s in segments]
    if choose(config) != "openai":
        return speak(config, texts, [s.planned_s for s in segments], language)
    from ..fsutil import atomic_write_bytes, ensure_dir
    from .images import cache_dir, cache_key

    tts = config.tts
    folder = cache_dir(studio.home)
    clips: list[bytes | None] = []
    for text in texts:
        path = (
            folder / f"voice-{cache_key('tts', tts.base_url or '', tts.model, tts.voice, text)}.wav"
        )
        clips.append(path.read_bytes() if path.is_file() and not studio.fresh else None)
    missing = [t for t, c in zip(texts, clips, strict=True) if c is None]
    bought = _openai(config, missing) if missing else Speech(f"openai {tts.model} {tts.voice}")
    fresh = iter(bought.clips)
    ensure_dir(folder)
    out = []
    for text, clip in zip(texts, clips, strict=True):
        if clip is None:
            clip = next(fresh)
            key = cache_key("tts", tts.base_url or "", tts.model, tts.voice, text)
            atomic_write_bytes(folder / f"voice-{key}.wav", clip)
        out.append(clip)
    return Speech(bought.provider, out, bought.chars, bought.cost_usd, calls=bought.calls)
