"""Matrix HTML parsed into a tree without recursion, and that tree's depth limited.

MatrixParser renders by recursion, three to five Python frames for each element
nested in another, so HTML about 200 elements deep exhausts Python's recursion limit (1000
frames) and raises RecursionError; Synapse accepts events of up to 64 KiB, room enough for 20,000
unclosed ``<b>`` tags. So before rendering, the tree is walked (iteratively) and every element
more than :data:`DEPTH_LIMIT` (50) elements deep is flattened into its ancestor at that depth:
its text is kept, in order, with a line break where a block (paragraph, list item, table row,
``<br>``…) began or ended and a space between table cells, and images keep their alt text; only
its formatting is lost (no ``*bold*`` markers, bullets, quote marks or link targets, and a
``<pre>`` that opens past the limit keeps its lines but not its runs of spaces). A list or table
at the limit keeps one item or cell to hold that text, since lists and tables show nothing else.
Element drops the tags past the same depth and keeps their text, so this is what the sender saw;
no message a person writes comes near the limit, and ordinary HTML renders exactly as before.
The parse tree itself is built without recursion (see :class:`_TreeBuilder` for the two inputs
on which it differs from mautrix's, both of which made mautrix's fail).
"""

from __future__ import annotations

from html.parser import HTMLParser

from mautrix.util.formatter import HTMLNode, MatrixParser

from .plain import HTML_WHITESPACE

# Elements nested deeper than this are flattened to their text (see the module docstring).
# Element applies the same limit (sanitize-html's nestingLimit: 50, "should be enough for anyone"),
# so QQ gets the formatting its sender saw. At 5 frames an element (blockquote, mailto link: the
# costliest) rendering takes at most about 250 frames, leaving most of Python's default recursion
# limit (1000) to the caller, and the line prefixes that nested quotes and lists repeat on every
# line stay at most about 100 characters.
DEPTH_LIMIT = 50

DROPPED_TAGS = ("script", "style")
TABLE_SECTIONS = ("thead", "tbody", "tfoot")

# Where a flattened subtree breaks its text into lines: MatrixParser's block tags, plus what
# makes a table's rows.
_LINE_TAGS = frozenset([*MatrixParser.block_tags, "tr", *TABLE_SECTIONS])
_CELL_TAGS = ("td", "th")
_VERBATIM_TAGS = ("pre", "code")
# Dropped with everything in them, as the parser drops them (mx-reply is the reply fallback).
_SKIPPED_TAGS = frozenset([*DROPPED_TAGS, "mx-reply"])
# What a list or table at the depth limit needs inside it to show the flattened text at all.
_HOLDERS: dict[str, tuple[str, ...]] = {
    "ul": ("li",),
    "ol": ("li",),
    "table": ("tr", "td"),
    "thead": ("tr", "td"),
    "tbody": ("tr", "td"),
    "tfoot": ("tr", "td"),
    "tr": ("td",),
}


def _node(tag: str, attrs: list[tuple[str, str | None]]) -> HTMLNode:
    return HTMLNode(tag, [(name, "" if value is None else value) for name, value in attrs])


class _TreeBuilder(HTMLParser):
    """The tree mautrix's ``read_html`` builds (its NodeifyingParser, which its type stubs do not
    export), built the same way except for two inputs on which mautrix's fails:
    - an end tag never closes the root (on ``</body></html>x`` mautrix's pops it and then fails
      on the text after it);
    - an attribute without a value has the value "" (HTML's rule) rather than None, on which
      MatrixParser fails (``<a href>``, ``<ol start>``, ``<code class>``).
    """

    _VOID_TAGS = frozenset(
        [
            "area",
            "base",
            "br",
            "col",
            "command",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "param",
            "source",
            "track",
            "wbr",
        ]
    )

    def __init__(self) -> None:
        super().__init__()
        self.stack = [HTMLNode("html", [])]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _node(tag, attrs)
        self.stack[-1].append(node)
        if tag not in self._VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].append(_node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == self.stack[-1].tag and len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if len(self.stack[-1]) > 0:
            self.stack[-1][-1].tail += data
        else:
            self.stack[-1].text += data


def read_html(data: str) -> HTMLNode:
    """The parse tree of ``data``, no element in it nested deeper than :data:`DEPTH_LIMIT`."""
    builder = _TreeBuilder()
    builder.feed(data)
    root: HTMLNode = builder.stack[0]
    limit_depth(root, DEPTH_LIMIT)
    return root


def limit_depth(root: HTMLNode, limit: int) -> None:
    """Flatten, in place, the children of every element that is ``limit`` deep (the root's
    children are 0 deep: ``parse`` wraps the message in ``<body>``, so its own top-level elements
    are 1 deep)."""
    # (element, its depth, whether it is inside <pre> or <code>)
    stack: list[tuple[HTMLNode, int, bool]] = [(root, -1, False)]
    while stack:
        node, depth, verbatim = stack.pop()
        verbatim = verbatim or node.tag in _VERBATIM_TAGS
        if depth >= limit:
            _flatten(node, verbatim)
            continue
        stack.extend((child, depth + 1, verbatim) for child in node if len(child))


class _FlatText:
    """The flattened content of one element.

    In an element whose whitespace the parser keeps (``<pre>``, ``<code>``) it is one text, line
    breaks included; elsewhere the parser would collapse "\n", so lines are separated by ``<br>``
    leaves, and images stay as leaves for the parser to render as their alt text.
    """

    def __init__(self, holder: HTMLNode, verbatim: bool) -> None:
        self.holder = holder
        self.verbatim = verbatim
        self.has_content = False  # anything visible yet
        self.at_line_start = True
        self.pending_break = False  # a block ended or began: the next content starts a line

    def text(self, text: str, verbatim: bool) -> None:
        if not text:
            return
        if self.pending_break:
            if not text.strip(HTML_WHITESPACE):
                return  # whitespace between blocks shows nothing
            self.line_break()
            text = text.lstrip(HTML_WHITESPACE)
        lines = text.split("\n") if verbatim and not self.verbatim else [text]
        self._append(lines[0])
        for line in lines[1:]:
            self._newline()
            self._append(line)
        self.has_content = self.has_content or bool(text.strip(HTML_WHITESPACE))

    def image(self, image: HTMLNode) -> None:
        if self.pending_break:
            self.line_break()
        if self.verbatim:
            self._append(image.attrib.get("alt") or image.attrib.get("title") or "")
        else:
            self.holder.append(HTMLNode("img", list(image.attrib.items())))
            self.at_line_start = False
        self.has_content = True

    def hard_break(self) -> None:
        """A ``<br>``."""
        if self.pending_break:
            self.line_break()
        self._newline()

    def block_edge(self) -> None:
        """A block element begins or ends."""
        self.pending_break = self.has_content and not self.at_line_start

    def line_break(self) -> None:
        self.pending_break = False
        if self.has_content:
            self._newline()

    def _newline(self) -> None:
        if self.verbatim:
            self._append("\n")
        else:
            self.holder.append(HTMLNode("br", []))
        self.at_line_start = True

    def _append(self, text: str) -> None:
        if not text:
            return
        if len(self.holder):
            self.holder[-1].tail += text
        else:
            self.holder.text += text
        self.at_line_start = text.endswith("\n")


def _flatten(node: HTMLNode, verbatim: bool) -> None:
    """Replace ``node``'s descendants by their text, in document order, without recursion.

    ``verbatim``: whether the parser keeps whitespace in ``node`` (it is or is in <pre>/<code>).
    """
    # (element, whether the text around it is verbatim, opening it or closing it)
    todo = [(child, verbatim, True) for child in reversed(node)]
    node.clear()
    holder = node
    for tag in _HOLDERS.get(node.tag, ()):
        inner = HTMLNode(tag, [])
        holder.append(inner)
        holder = inner
    text, node.text = node.text, ""
    flat = _FlatText(holder, verbatim)
    flat.text(text, verbatim)
    while todo:
        element, outer_verbatim, opening = todo.pop()
        if not opening:
            if element.tag in _LINE_TAGS:
                flat.block_edge()
            flat.text(element.tail, outer_verbatim)
            continue
        if element.tag == "br":
            flat.hard_break()
        elif element.tag == "img":
            flat.image(element)
        elif element.tag not in _SKIPPED_TAGS:
            if element.tag in _LINE_TAGS:
                flat.block_edge()
            elif element.tag in _CELL_TAGS:
                flat.text(" ", outer_verbatim)
            inner_verbatim = outer_verbatim or element.tag in _VERBATIM_TAGS
            flat.text(element.text, inner_verbatim)
            todo.append((element, outer_verbatim, False))
            todo.extend((child, inner_verbatim, True) for child in reversed(element))
            continue
        flat.text(element.tail, outer_verbatim)
