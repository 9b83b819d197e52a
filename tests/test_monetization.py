"""monetization offline: affiliate articles, promotion, affiliate programs, bundles."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fake_platforms import edit_config, exec_json, item_json, run


def make_ebook(home: Path, topic: str) -> str:
    record = exec_json(home, "content_creation", "ebook", f"topic={topic}", "chapters=2")
    ebook_id: str = record["result"]["ebook_id"]
    links = json.loads((home / "config.json").read_text()).get("product_links", {})
    edit_config(home, product_links={**links, ebook_id: f"https://shop.example/{ebook_id}"})
    return ebook_id


LINKS = [
    {
        "name": "Tea Club",
        "url": "https://example.com/tea?ref=me",
        "description": "loose-leaf tea subscription",
        "keywords": ["tea", "matcha"],
    },
    {
        "name": "Brew Kit",
        "url": "https://example.com/brew (kit)?ref=me",
        "description": "pour-over coffee kit",
        "keywords": ["coffee"],
    },
]


def test_affiliate_article_links_matching_products_with_a_disclosure(home: Path) -> None:
    edit_config(home, affiliate_links=LINKS)
    record = exec_json(
        home, "monetization", "affiliate_content", "topic=the best matcha tea for beginners"
    )
    post = Path(record["result"]["files"][0]).read_text()
    assert "[Tea Club](https://example.com/tea?ref=me)" in post
    assert "Brew Kit" not in post  # coffee does not match a tea topic
    assert re.search(r"^> \*\*Disclosure: this article contains affiliate links", post, re.M)
    assert post.index("Disclosure") < post.index("](https://")
    assert "affiliate: true" in post and "generated_by:" in post


def test_affiliate_article_uses_every_link_when_none_matches(home: Path) -> None:
    edit_config(home, affiliate_links=LINKS)
    record = exec_json(home, "monetization", "affiliate_content", "topic=gardening")
    post = Path(record["result"]["files"][0]).read_text()
    assert "[Tea Club](https://example.com/tea?ref=me)" in post
    assert "[Brew Kit](https://example.com/brew%20%28kit%29?ref=me)" in post


def test_affiliate_content_without_links_fails_naming_the_setting(home: Path) -> None:
    edit_config(home, affiliate_links=[])
    result = run(home, "exec-now", "monetization", "affiliate_content", "-p", "topic=tools")
    assert result.exit_code == 1
    assert '"affiliate_links" in config.json' in result.stderr
    assert '"url":' in result.stderr  # shows how an entry looks


def test_bundle_needs_two_ebooks_then_bundles_them_once(home: Path) -> None:
    record = exec_json(home, "monetization", "bundle_creation")
    assert record["result"]["reason"] == "bundle needs at least 2 ebooks; 0 exist"

    first = make_ebook(home, "focus")
    record = exec_json(home, "monetization", "bundle_creation")
    assert record["result"] == {
        "items": 0,
        "reason": "bundle needs at least 2 ebooks; 1 exists",
        "summary": "bundle needs at least 2 ebooks; 1 exists",
        "files": [],
        "ebooks": 1,
    }

    second = make_ebook(home, "sleep")
    record = exec_json(home, "monetization", "bundle_creation")
    result = record["result"]
    assert result["items"] == 1 and result["bundle_id"] == result["content_id"]
    bundle = item_json(home, result["content_id"])
    assert bundle["kind"] == "bundle" and bundle["status"] == "draft"  # not a post
    assert sorted(bundle["meta"]["ebook_ids"]) == sorted([first, second])
    assert 0 < bundle["meta"]["price_usd"] < bundle["meta"]["separate_total_usd"]
    text = Path(next(f for f in result["files"] if f.endswith(".md"))).read_text()
    assert first in text and second in text and "Price suggestion" in text

    again = exec_json(home, "monetization", "bundle_creation")["result"]
    assert again["items"] == 0 and again["bundle_id"] == result["content_id"]
    assert "already exists" in again["reason"]


def test_ebook_promotion_covers_unpromoted_ebooks_once(home: Path) -> None:
    nothing = exec_json(home, "monetization", "ebook_promotion")["result"]
    assert nothing["items"] == 0 and "no ebooks yet" in nothing["reason"]

    ebook_id = make_ebook(home, "focus")
    result = exec_json(home, "monetization", "ebook_promotion")["result"]
    assert result["promoted"] == [ebook_id] and result["items"] == 1
    promo = Path(next(f for f in result["files"] if f.endswith(".md"))).read_text()
    for part in ("## Blurb", "## Launch email", "## Social posts", "## Landing page"):
        assert part in promo
    assert item_json(home, ebook_id)["meta"]["promotion_id"] == result["content_id"]
    assert item_json(home, result["content_id"])["status"] == "draft"  # material, not a post

    again = exec_json(home, "monetization", "ebook_promotion")["result"]
    assert again["items"] == 0 and "already have promotion copy" in again["reason"]

    forced = exec_json(home, "monetization", "ebook_promotion", f"ebook_id={ebook_id}")
    assert forced["result"]["promoted"] == [ebook_id]


def test_ebook_promotion_with_an_unknown_id_fails_clearly(home: Path) -> None:
    result = run(home, "exec-now", "monetization", "ebook_promotion", "-p", "ebook_id=nope")
    assert result.exit_code == 1
    assert "ebook_id 'nope' is not a content item" in result.stderr


def test_max_items_per_run_caps_promotion_and_the_rest_waits(home: Path) -> None:
    make_ebook(home, "focus")
    make_ebook(home, "sleep")
    edit_config(home, max_items_per_run=1)
    first = exec_json(home, "monetization", "ebook_promotion")["result"]
    assert first["items"] == 1 and first["remaining"] == 1
    second = exec_json(home, "monetization", "ebook_promotion")["result"]
    assert second["items"] == 1 and second["promoted"] != first["promoted"]


def test_affiliate_program_adds_terms_to_ebooks_that_lack_them(home: Path) -> None:
    none = exec_json(home, "monetization", "affiliate_program")["result"]
    assert none["items"] == 0 and "no ebooks yet" in none["reason"]

    ebook_id = make_ebook(home, "focus")
    result = exec_json(home, "monetization", "affiliate_program")["result"]
    assert result["ebooks"] == [ebook_id]
    stored = item_json(home, ebook_id)
    program = stored["meta"]["affiliate_program"]
    assert 1 <= program["commission_percent"] <= 90 and program["cookie_days"] >= 1
    terms = home / ".mp" / "content" / ebook_id / stored["files"]["affiliate_terms"]
    text = terms.read_text()
    assert f"{program['commission_percent']:g}%" in text and "Cookie window" in text

    again = exec_json(home, "monetization", "affiliate_program")["result"]
    assert again["items"] == 0 and "already have one" in again["reason"]


def test_affiliate_links_param_picks_named_links(home: Path) -> None:
    edit_config(home, affiliate_links=LINKS)
    record = exec_json(home, "monetization", "affiliate_content", "topic=tea", "links=Brew Kit")
    post = Path(record["result"]["files"][0]).read_text()
    assert "[Brew Kit](" in post and "Tea Club" not in post

    result = run(
        home, "exec-now", "monetization", "affiliate_content", "-p", "topic=tea", "-p", "links=Nope"
    )
    assert result.exit_code == 1
    assert "Nope" in result.stderr and "Tea Club, Brew Kit" in result.stderr
