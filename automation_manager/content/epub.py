"""EPUB 3 assembly with ``ebooklib``: metadata, a title page, chapters, nav, NCX and CSS.

Chapter text arrives as Markdown (from a model or the offline templates) and is turned
into well-formed XHTML: raw HTML in the source is shown as text, never passed through,
and named HTML entities are resolved, so the result passes epubcheck whatever the model
wrote.
"""

from __future__ import annotations

import html
import io
import re
import uuid
from dataclasses import dataclass, field

CSS = """\
body { font-family: Georgia, "Times New Roman", serif; line-height: 1.5; margin: 0 5%; }
h1, h2, h3 { font-family: "Helvetica Neue", Arial, sans-serif; line-height: 1.2; }
h1 { font-size: 1.8em; margin: 1.5em 0 0.8em; }
h2 { font-size: 1.3em; margin: 1.4em 0 0.5em; }
p { margin: 0 0 0.8em; }
blockquote { margin: 1em 1.5em; font-style: italic; }
code { font-family: monospace; }
.title-page { text-align: center; margin-top: 20%; }
.subtitle { font-size: 1.2em; font-style: italic; }
.author { margin-top: 2em; }
.colophon { font-size: 0.85em; margin-top: 3em; }
"""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class BookInfo:
    """Metadata of one EPUB. ``identifier`` defaults to a UUID derived from the rest."""

    title: str
    author: str
    language: str = "en"
    publisher: str = ""
    subtitle: str = ""
    description: str = ""
    generated_by: str = ""
    date: str = ""
    identifier: str = ""
    subjects: list[str] = field(default_factory=list)
    cover: bytes | None = None
    """A PNG declared as the cover image (``properties="cover-image"``) with a cover page."""


_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_SAFE_HREF = re.compile(r"^(https?:|mailto:)", re.I)


def _resolve_entities(text: str) -> str:
    """Named and numeric HTML entities → characters (XHTML knows only the XML five)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name in _XML_ENTITIES else html.unescape(match.group(0))

    return _CONTROL.sub("", _ENTITY.sub(one, text))


def markdown_to_xhtml(text: str) -> str:
    """Markdown → an XHTML fragment that is well-formed XML with no named entities.

    Raw HTML is escaped (shown as text), images are not embedded (an EPUB may not load
    remote files), and links other than http(s) and mailto lose their target.
    """
    import xml.etree.ElementTree as ET

    import markdown

    md = markdown.Markdown(
        extensions=["sane_lists", "fenced_code", "tables"], output_format="xhtml"
    )
    md.preprocessors.deregister("html_block")
    for pattern in ("html", "image_link", "image_reference", "short_image_ref"):
        if pattern in md.inlinePatterns:
            md.inlinePatterns.deregister(pattern)
    body = md.convert(_resolve_entities(text))
    try:
        root = ET.fromstring(f"<div>{body}</div>")
    except ET.ParseError:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        return "".join(f"<p>{html.escape(_resolve_entities(p))}</p>" for p in paragraphs)
    for el in root.iter("a"):
        if not _SAFE_HREF.match(el.get("href", "")):
            el.attrib.pop("href", None)
    inner = html.escape(root.text or "", quote=False)
    return inner + "".join(ET.tostring(child, encoding="unicode") for child in root)


def build_epub(info: BookInfo, chapters: list[tuple[str, str]]) -> bytes:
    """The EPUB file as bytes.

    :param chapters: (title, Markdown body without the title heading) in reading order.
    """
    from ebooklib import epub

    book = epub.EpubBook()
    ident = info.identifier or "urn:uuid:" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"amgr:{info.title}:{info.author}:{info.date}")
    )
    book.set_identifier(ident)
    book.set_title(info.title)
    book.set_language(info.language)
    book.add_author(info.author)
    if info.description:
        book.add_metadata("DC", "description", info.description)
    if info.date:
        book.add_metadata("DC", "date", info.date)
    for subject in info.subjects:
        book.add_metadata("DC", "subject", subject)
    book.add_metadata("DC", "publisher", info.publisher or info.author)
    if info.generated_by:
        book.add_metadata(None, "meta", "", {"name": "generator", "content": info.generated_by})
    if info.cover:
        book.set_cover("images/cover.png", info.cover, create_page=True)
        book.get_item_with_id("cover").is_linear = True  # first in reading order

    css = epub.EpubItem(
        uid="style", file_name="style/book.css", media_type="text/css", content=CSS.encode("utf-8")
    )
    book.add_item(css)

    def page(uid: str, name: str, title: str, body: str) -> epub.EpubHtml:
        item = epub.EpubHtml(uid=uid, title=title, file_name=name, lang=info.language)
        item.content = body
        item.add_item(css)
        book.add_item(item)
        return item

    esc = html.escape
    title_body = (
        f'<section class="title-page" epub:type="titlepage"><h1>{esc(info.title)}</h1>'
        + (f'<p class="subtitle">{esc(info.subtitle)}</p>' if info.subtitle else "")
        + f'<p class="author">{esc(info.author)}</p>'
        + (f'<p class="colophon">{esc(info.generated_by)}</p>' if info.generated_by else "")
        + "</section>"
    )
    title_page = page("titlepage", "title.xhtml", info.title, title_body)
    items = []
    for i, (chapter_title, text) in enumerate(chapters, 1):
        body = (
            f'<section epub:type="chapter"><h1>{esc(chapter_title)}</h1>'
            f"{markdown_to_xhtml(text)}</section>"
        )
        items.append(page(f"chapter{i:02d}", f"chapter-{i:02d}.xhtml", chapter_title, body))

    book.toc = [epub.Link("title.xhtml", "Title page", "titlepage"), *items]
    book.add_item(epub.EpubNcx())
    nav = epub.EpubNav()
    nav.add_item(css)
    book.add_item(nav)
    book.spine = [*(["cover"] if info.cover else []), title_page, "nav", *items]
    out = io.BytesIO()
    epub.write_epub(out, book, {"epub3_pages": False})
    return out.getvalue()
