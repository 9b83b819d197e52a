"""Visuals from a real OpenAI-compatible server on 127.0.0.1: images and speech through
the ``openai`` client, paid once per asset, refusals and bad sizes kept as needs_visuals."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import edit_config, exec_json, run
from openai_server import FakeOpenAI, image_bad_size, image_refused, rate_limited
from PIL import Image

from automation_manager.visuals.video import probe


@pytest.fixture
def model_home(home: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMGR_VISUALS", "images")
    edit_config(
        home,
        images={"provider": "openai", "model": "gpt-image-1", "base_url": server.url},
        llm={"provider": "offline"},
    )
    config = json.loads((home / "config.json").read_text())
    config["platforms"]["mastodon"] = {"kind": "outbox"}  # social tasks name it
    (home / "config.json").write_text(json.dumps(config))
    return home


def item(home: Path, record: dict[str, Any]) -> dict[str, Any]:
    result = run(home, "content", "show", record["result"]["content_id"], "--json")
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_featured_image_comes_from_the_images_api_and_is_paid_once(
    model_home: Path, server: FakeOpenAI
) -> None:
    record = exec_json(model_home, "content_creation", "blog", "topic=sourdough baking")
    (request,) = server.media_requests("images")
    assert request.body is not None
    assert request.body["model"] == "gpt-image-1" and request.body["size"] == "1536x1024"
    assert "sourdough baking" in request.body["prompt"]
    assert record["result"]["images"] == 1
    assert record["usage"]["images"] == 1
    assert record["usage"]["cost_usd"] == pytest.approx(0.042)
    doc = item(model_home, record)
    (featured,) = [a for a in doc["assets"] if a["role"] == "featured_image"]
    with Image.open(featured["path"]) as img:
        assert img.size == (1200, 630)
        assert img.convert("RGB").getpixel((600, 300)) == img.convert("RGB").getpixel((10, 10))

    # The same article made again (rejected, then the same angle asked for): its image
    # comes from the cache, never bought twice.
    assert run(model_home, "content", "reject", doc["id"]).exit_code == 0
    again = exec_json(
        model_home,
        "content_creation",
        "blog",
        "topic=sourdough baking",
        f"angle={doc['meta']['angle']}",
    )
    assert again["result"]["title"] == record["result"]["title"]
    assert len(server.media_requests("images")) == 1  # the same image is not bought twice
    assert "images" not in again["result"]
    assert again["usage"] is None  # nothing was paid for


def test_rate_limit_is_retried_with_backoff(model_home: Path, server: FakeOpenAI) -> None:
    server.push_media(rate_limited(0))
    record = exec_json(model_home, "content_creation", "social", "topic=tea", "platform=mastodon")
    assert len(server.media_requests("images")) == 2
    assert record["result"]["images"] == 1


@pytest.mark.parametrize(
    ("reply", "setting", "words"),
    [
        (image_refused(), "images.model", "refused"),
        (image_bad_size(), "images.size", "does not support this size"),
    ],
)
def test_refusal_or_bad_size_keeps_the_text_and_marks_needs_visuals(
    model_home: Path, server: FakeOpenAI, reply: Any, setting: str, words: str
) -> None:
    server.push_media(reply)
    record = exec_json(model_home, "content_creation", "blog", "topic=knife sharpening")
    problem = record["result"]["needs_visuals"]
    assert setting in problem and words in problem
    doc = item(model_home, record)
    assert Path(doc["files"]["markdown"]).is_file()
    assert doc["meta"]["needs_visuals"] == problem
    assert not [a for a in doc["assets"] if a["role"] == "featured_image"]


def _srt_end(text: str) -> float:
    h, m, s, ms = (int(x) for x in re.findall(r"--> (\d\d):(\d\d):(\d\d),(\d\d\d)", text)[-1])
    return h * 3600 + m * 60 + s + ms / 1000


def test_openai_voice_over_times_the_captions_and_is_bought_once(
    home: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMGR_VISUALS", "all")
    edit_config(
        home,
        llm={"provider": "offline"},
        tts={"provider": "openai", "voice": "nova", "base_url": server.url},
    )
    record = exec_json(home, "content_creation", "shorts", "topic=focus", "length=15")
    speech = server.media_requests("speech")
    assert speech and all(r.body and r.body["voice"] == "nova" for r in speech)
    assert all(r.body and r.body["response_format"] == "wav" for r in speech)
    assert record["result"]["voice"] == "openai gpt-4o-mini-tts nova"
    assert record["usage"]["cost_usd"] > 0
    doc = item(home, record)
    (video,) = [a for a in doc["assets"] if a["role"] == "video"]
    info = probe(Path(video["path"]))
    assert "Video: h264" in info and "Audio: aac" in info and "1080x1920" in info
    srt = Path(doc["files"]["srt"]).read_text()
    assert abs(_srt_end(srt) - video["duration_s"]) < 0.05
    assert abs(video["duration_s"] - 15) <= 15 * 0.15  # the target ±10 %, and the end card

    made = item(home, record)
    assert run(home, "content", "reject", made["id"]).exit_code == 0
    exec_json(
        home,
        "content_creation",
        "shorts",
        "topic=focus",
        "length=15",
        f"angle={made['meta']['angle']}",
    )
    assert len(server.media_requests("speech")) == len(speech)  # voice reused, not re-bought


def test_budget_estimate_counts_images_and_voice() -> None:
    from automation_manager.config.base import validate
    from automation_manager.config.models import Config
    from automation_manager.visuals.budget import expected_cost

    offline = Config()
    assert expected_cost(offline, "blog") == 0
    paid = validate(
        Config,
        {
            "images": {
                "provider": "openai",
                "images_per_article": 2,
                "prices": {"gpt-image-1": 0.05},
            },
            "tts": {"provider": "openai", "price_per_1k_chars": 0.02},
        },
    )
    assert expected_cost(paid, "blog") == pytest.approx(0.15)
    assert expected_cost(paid, "shorts", {"length": 60}) == pytest.approx(0.1 + 0.018)


def test_paid_images_count_in_the_daily_budget(model_home: Path, server: FakeOpenAI) -> None:
    edit_config(model_home, llm={"provider": "offline", "daily_budget_usd": 0.04})
    result = run(model_home, "exec-now", "content_creation", "blog", "-p", "topic=tea", "--json")
    record = json.loads(result.stdout)
    assert record["status"] == "skipped", record
    assert "daily_budget_usd" in json.dumps(record)
    assert not server.media_requests("images")
    edit_config(model_home, llm={"provider": "offline", "daily_budget_usd": 1.0})
    assert exec_json(model_home, "content_creation", "blog", "topic=tea")["result"]["images"] == 1
