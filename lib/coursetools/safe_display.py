"""A student's work, made safe to show in the instructor's browser.

The graded copy of a submission (``autograded/``) is shown as HTML by nbgrader's Formgrader and in
the feedback pages, and the Formgrader's pages come from the instructor's own Jupyter server. HTML
that a student's code displayed, or wrote into a Markdown or raw cell, would run there as the
instructor: a ``<script>`` or an ``<img onerror=…>`` could call the server's API, read the
solutions, open a terminal or change every grade. So, when a submission is graded:

* outputs keep plain text and PNG/JPEG/GIF images; HTML is cleaned (``clean_html``: tags and
  attributes from a list of harmless ones; links keep their text but lead nowhere, since on a
  hub every user's server shares the instructor's origin, and a page a student serves there
  would act as the instructor; classes only from a short list, since the pages' own styles
  would otherwise let an output cover the page with a fake score); SVG, Markdown, LaTeX and
  JavaScript outputs are dropped (their plain-text form stays);
* Markdown cells the student wrote keep their Markdown but not raw HTML: every ``<`` is written
  ``&lt;``, so it shows as the character and never opens a tag, and MathJax's link-making
  commands lose their command form;
* raw cells the student wrote (which nbconvert pastes into the page as they are) become Markdown
  cells showing their text in a code block.

``nbgrader_config.py`` also turns on nbconvert's ``sanitize_html`` with ``clean_html`` as its
cleaner, for every page nbgrader renders: a second layer, for notebooks that did not come
through this step.
"""
from __future__ import annotations

import html as htmllib
import re
import unicodedata

import bleach
from jinja2 import pass_context

__all__ = ["clean_html", "markdown2html", "safe_bundle", "escape_markdown_html", "make_safe",
           "SHOWN_AS_IS"]

#: output types shown as they are: nothing in them can run
SHOWN_AS_IS = ("text/plain", "image/png", "image/jpeg", "image/gif")

_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
         "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small",
         "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
         "tr", "u", "ul", "var"}
_ALLOWED = {"*": ["class", "title"], "a": ["href", "title"],
            "img": ["src", "alt", "title", "width", "height"],
            "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align"],
            "col": ["span"], "ol": ["start"]}
_PROTOCOLS = ["http", "https", "mailto", "data"]
#: an image is shown only from the page itself: one from elsewhere would tell whoever serves it
#: when the page was opened, and from where (the course itself never loads anything from outside)
_INLINE_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,", re.I)


#: the class names an output keeps (pandas' tables); any other would take the page's own styles
#: (Bootstrap's navbar-fixed-top, modal-backdrop, alert-success, …)
_CLASSES = {"dataframe"}
#: the largest width or height an image keeps (pixels): a larger one could cover the page
MAX_IMAGE_SIDE = 1000


def _attribute_kept(tag, name, value):
    """bleach's test of one attribute: those of ``_ALLOWED``, with an image's source only inline
    (PNG, JPEG or GIF data) and its size at most ``MAX_IMAGE_SIDE``, classes only from
    ``_CLASSES``, and no link's target: a link keeps its text (on a hub, a relative link leads
    to a page another user's server makes, at the instructor's own origin)."""
    if name not in _ALLOWED.get(tag, []) and name not in _ALLOWED["*"]:
        return False
    plain = re.sub(r"[\x00-\x20]", "", value).lower()
    if tag == "img" and name == "src":
        return _INLINE_IMAGE.match(plain) is not None
    if tag == "a" and name == "href":
        return False
    if name == "class":
        return bool(value.split()) and set(value.split()) <= _CLASSES
    if name in ("width", "height"):
        return plain.isdigit() and int(plain) <= MAX_IMAGE_SIDE
    return True


#: HTML longer than this (characters) is not parsed and cleaned but shown as escaped text: bleach
#: cleans about 100 kB a second (less for long tables), and a page must not take minutes
MAX_CLEANED = 100_000
#: what the graded copy of one submission may hold of cleaned HTML outputs in all (characters);
#: beyond it, HTML outputs keep only their plain-text form
NOTEBOOK_HTML_BUDGET = 300_000


def clean_html(html):
    """``html`` with only harmless tags and attributes (a list of the ones notebooks use: text,
    headings, lists, tables, code, images, links); everything else is removed, its text kept.
    No script, style, event handler, form, frame or ``javascript:`` link survives. HTML longer
    than ``MAX_CLEANED`` is returned escaped, as text (safe, and fast to make)."""
    html = html.decode() if isinstance(html, bytes) else str(html)
    if len(html) > MAX_CLEANED:
        return htmllib.escape(html)
    return bleach.clean(html, tags=_TAGS, attributes=_attribute_kept, protocols=_PROTOCOLS,
                        strip=True, strip_comments=True)


@pass_context
def markdown2html(context, source):
    """nbconvert's Markdown-to-HTML filter, made safe: no ``javascript:`` (or other harmful)
    link, and the HTML it makes goes through ``clean_html``. ``nbgrader_config.py`` puts it in
    place of nbconvert's for every page nbgrader renders: the Formgrader's template renders
    Markdown cells without nbconvert's ``sanitize_html`` step."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    cell = context.get("cell", {})
    renderer = IPythonRenderer(escape=False, allow_harmful_protocols=False,
                               attachments=cell.get("attachments", {}),
                               path=context.get("resources", {}).get("metadata", {}).get("path", ""))
    return clean_html(MarkdownWithMath(renderer=renderer).render(source))


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def safe_bundle(data, html_budget=None):
    """A display's data (mime type → value) with only what is safe to show (see the module).

    ``html_budget``: a one-element list holding how many more characters of HTML may be cleaned
    (``make_safe`` passes one per notebook); an HTML output beyond it, or longer than
    ``MAX_CLEANED``, keeps only its other forms."""
    out = {k: v for k, v in data.items() if k in SHOWN_AS_IS}
    if "text/html" in data:
        html = _text(data["text/html"])
        if len(html) <= MAX_CLEANED and (html_budget is None or len(html) <= html_budget[0]):
            out["text/html"] = clean_html(html)
            if html_budget is not None:
                html_budget[0] -= len(html)
    if not out and data:
        kinds = ", ".join(sorted(data))[:200]
        out["text/plain"] = f"[an output of type {kinds}: not shown in the graded copy]"
    return out


#: MathJax commands that make links, load extensions or set attributes (MathJax runs in the page)
_TEX_ACTIVE = re.compile(r"\\(href|url|class|style|cssId|require|unicode|html|data)\b")


#: link schemes that run code, also spelled with Markdown's backslash escapes (``javascript\\:``)
_SCHEME = re.compile(r"(?i)(?<![\w+.-])(?:" + "|".join(r"\\?".join(word) for word in ("javascript", "vbscript", "data"))
                     + r")\\?:")


def escape_markdown_html(source):
    """Markdown ``source`` in which no HTML tag can form and no link or MathJax command can run.

    Every ``&`` and ``<`` is written ``&amp;`` and ``&lt;`` (the text reads the same, but no
    ``<script>`` or ``<img onerror=…>`` can open, and no character reference can spell one); a
    ``javascript:``, ``vbscript:`` or ``data:`` scheme loses its colon (``%3A``); MathJax's
    commands that make links, set attributes or load extensions (``\\href``, ``\\class``,
    ``\\require``, …) lose their command form. Inside code, ``<`` and ``&`` then show as ``&lt;``
    and ``&amp;``: a cosmetic cost, in the graded copy only, that no Markdown parser's reading of
    where code starts and ends can turn into a way around it."""
    text = _text(source).replace("&", "&amp;").replace("<", "&lt;")
    text = _TEX_ACTIVE.sub(lambda m: "\\\\" + m.group(1), text)
    return _SCHEME.sub(lambda m: m.group(0)[:-1] + "%3A", text)


def _fenced(text):
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}text\n{text}\n{ticks}"


#: a student's Markdown or raw cell longer than this (characters) is shortened in the graded copy
#: (the submission itself keeps it whole): rendering it must not hold up the Formgrader
MAX_STUDENT_TEXT = 100_000
#: what the student's Markdown and raw cells of one notebook may hold in all in the graded copy
#: (characters); beyond it, their text is not shown there
NOTEBOOK_TEXT_BUDGET = 1_000_000
#: what the student's code cells of one notebook may hold in all in the graded copy (characters):
#: highlighting code costs more than rendering Markdown (Pygments takes about 20 s for 1 MB of
#: some texts), and it runs for every feedback page and every time the Formgrader shows it
NOTEBOOK_CODE_BUDGET = 300_000


def _shortened(source, budget, comment=""):
    """The cell's text, at most ``MAX_STUDENT_TEXT`` characters of it and at most what is left of
    ``budget`` (a one-item list, the characters left for the notebook, reduced here); the note
    of what was left out starts with ``comment`` (``"# "`` in code)."""
    text = _text(source)
    keep = min(MAX_STUDENT_TEXT, budget[0])
    budget[0] -= min(len(text), keep)
    if len(text) <= keep:
        return text
    return (text[:keep] + f"\n\n{comment}[… {len(text) - keep:,} more characters, not shown in "
            f"the graded copy]")


#: nbgrader's markers of hidden tests: in a student's cell they would stop nbgrader's feedback
#: for that student ("hidden test region detected in a non-grade cell"), so they are shown there
#: in another form
_HIDDEN_MARKERS = re.compile(r"(BEGIN|END) HIDDEN TESTS")


def _markers_shown(text):
    return _HIDDEN_MARKERS.sub(r"\1-HIDDEN-TESTS (as the student wrote it)", text)


def make_safe(nb, released):
    """Make the notebook ``nb`` safe to show, in place (see the module); returns it.

    Markdown and raw cells whose text is a cell of ``released`` (the assignment as released) are
    the instructor's and stay as they are; the others are the student's. Outputs are cleaned by
    ``safe_bundle`` wherever they come from, with ``NOTEBOOK_HTML_BUDGET`` characters of HTML in
    all, the student's own Markdown and raw cells are shown up to ``NOTEBOOK_TEXT_BUDGET``
    characters in all and their code up to ``NOTEBOOK_CODE_BUDGET``: cleaning, rendering and
    highlighting run outside the sandbox's time limit."""
    own = {c.source for c in released.cells if c.cell_type in ("markdown", "raw")}
    own_code = {c.source for c in released.cells if c.cell_type == "code"}
    budget, text_budget = [NOTEBOOK_HTML_BUDGET], [NOTEBOOK_TEXT_BUDGET]
    code_budget = [NOTEBOOK_CODE_BUDGET]
    for cell in nb.cells:
        if cell.source not in own and cell.source not in own_code:
            cell.source = _markers_shown(_text(cell.source))
        if cell.cell_type == "markdown" and cell.source not in own:
            cell.source = escape_markdown_html(_shortened(cell.source, text_budget))
            cell.pop("attachments", None)
        elif cell.cell_type == "raw" and cell.source not in own:
            cell.cell_type, cell.source = "markdown", _fenced(_shortened(cell.source, text_budget))
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
        elif cell.cell_type == "code":
            if cell.source not in own_code:
                cell.source = _shortened(cell.source, code_budget, comment="# ")
            for output in cell.get("outputs", []):
                if output.get("output_type") in ("display_data", "execute_result"):
                    output["data"] = safe_bundle(dict(output.get("data", {})), budget)
    return nb


def printable(text):
    """``text`` with every character a terminal or an editor would act on made visible: control
    characters (escape sequences, carriage returns, …), format characters (right-to-left
    overrides, …) and lone surrogates (a file name's undecodable bytes) become their Python
    escapes (\\x1b, \\u202e, \\udcff); line breaks stay.

    For what the grader prints or writes that may hold a name a student chose (a file's, a
    folder's): a name can otherwise retitle the instructor's terminal, rewrite the line above or
    reorder what is shown. Shapes: a string → a string."""
    return "".join(c if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Cs")
                   else repr(c)[1:-1] for c in str(text))
