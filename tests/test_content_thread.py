"""Splitting a long post into a numbered thread that fits the platform."""

from __future__ import annotations

import pytest

from automation_manager.content.thread import limit_for, split_thread


def test_short_text_stays_one_post_without_numbering() -> None:
    assert split_thread("Ten minutes beat an hour you never start.", 280) == [
        "Ten minutes beat an hour you never start."
    ]


def test_long_text_splits_at_sentence_boundaries_and_numbers_parts() -> None:
    sentences = [f"Sentence number {i} says one useful thing about focus." for i in range(20)]
    parts = split_thread(" ".join(sentences), 280)
    n = len(parts)
    assert n > 1
    for i, part in enumerate(parts, 1):
        assert len(part) <= 280
        assert part.endswith(f" ({i}/{n})")
        body = part.removesuffix(f" ({i}/{n})")
        assert body.endswith(".")  # never cut mid-sentence when sentences fit
    rejoined = " ".join(p.rsplit(" (", 1)[0] for p in parts)
    assert rejoined == " ".join(sentences)


def test_a_sentence_longer_than_a_post_is_cut_at_words() -> None:
    text = " ".join(["word"] * 200)
    parts = split_thread(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert all(not p.split(" (")[0].endswith("wor") for p in parts)
    assert sum(p.split(" (")[0].count("word") for p in parts) == 200


def test_a_huge_word_is_cut_hard_but_still_fits() -> None:
    parts = split_thread("https://example.com/" + "x" * 700, 280)
    assert len(parts) == 3 and all(len(p) <= 280 for p in parts)


def test_numbering_width_grows_past_nine_parts() -> None:
    text = " ".join(f"Point {i} is short." for i in range(300))
    parts = split_thread(text, 60)
    assert len(parts) >= 10
    assert all(len(p) <= 60 for p in parts)
    assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")


def test_paragraph_breaks_survive_inside_a_part() -> None:
    parts = split_thread("First idea.\n\nSecond idea.\n\n" + "More. " * 80, 280)
    assert parts[0].startswith("First idea.\n\nSecond idea.")


@pytest.mark.parametrize(
    ("platform", "kind", "limit"),
    [
        ("twitter", None, 280),
        ("X", None, 280),
        ("masto", "mastodon", 500),
        ("bluesky", None, 300),
        ("linkedin", None, 3000),
        ("instagram", None, 2200),
        ("threads", None, 500),
        ("somewhere", "outbox", 280),
        (None, None, 280),
    ],
)
def test_limits_by_platform_name_or_kind(
    platform: str | None, kind: str | None, limit: int
) -> None:
    assert limit_for(platform, kind) == limit
