"""HTML fragments (feed summaries, JSON records' ``html``) into clean text paragraphs.

Fragments are small and already "the article", so a full extractor would only guess wrong
about what is main text; a block-aware walk that drops scripts, forms and share rows is
both faster and more faithful here.
"""

from __future__ import annotations

from html.parser import HTMLParser

from daemon.parse import lines as ln
from daemon.parse.fields import clean_line

_BLOCKS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "pre",
        "hr",
        "dd",
        "dt",
        "dl",
        "main",
        "aside",
    ]
)
_SKIPPED = frozenset(
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "svg",
        "form",
        "button",
        "nav",
        "template",
        "select",
        "applet",
    ]
)
_DROPPED_KINDS = frozenset(
    {ln.Kind.BOILER, ln.Kind.CUT, ln.Kind.REPLY, ln.Kind.FOOTER, ln.Kind.BLANK}
)


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._current.append(data)

    def _flush(self) -> None:
        text = clean_line(" ".join("".join(self._current).split()))
        self._current = []
        if text:
            self.paragraphs.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(fragment: str) -> list[str]:
    """Paragraphs of an HTML fragment, without promos, share rows and copyright lines."""
    if "<" not in fragment:
        return text_paragraphs(fragment)
    parser = _Paragraphs()
    parser.feed(fragment)
    parser.close()
    return [p for p in parser.paragraphs if _keep(p)]


def text_paragraphs(text: str) -> list[str]:
    """Plain text into paragraphs: blank lines separate them; single newlines do too when
    the text has no blank lines at all (one paragraph per line is the common dump)."""
    blocks = text.replace("\r\n", "\n").split("\n\n") if "\n\n" in text else text.splitlines()
    paragraphs = [clean_line(" ".join(block.split())) for block in blocks]
    return [p for p in paragraphs if p and _keep(p)]


def _keep(paragraph: str) -> bool:
    return ln.classify(ln.features(paragraph)) not in _DROPPED_KINDS
