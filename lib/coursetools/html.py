"""Every lecture as a web page that works offline: figures, explorers' static twins, typeset maths.

    python -m coursetools.html [--dest build/html] [lectures/NN_name.ipynb ...]
    (or: make html [DEST=folder])

Each lecture (``lectures/*.ipynb``, committed executed) is exported with nbconvert's HTML exporter
(JupyterLab's look) from its stored outputs: nothing is executed. The pages need no network:

* Figures are already embedded in the page as ``data:`` images by nbconvert.
* Maths is typeset by a local copy of MathJax 2.7 (the files that the PyPI package
  ``jupyter-server-mathjax`` ships, pinned in requirements.txt), copied to ``DEST/mathjax/`` and
  loaded from there with a relative address, with its STIX web fonts (the only fonts the package
  ships, so MathJax is told to use them and never to look for others).
* nbconvert's page would load require.js, the Jupyter widgets manager and mermaid.js from CDNs:
  the template here leaves those three out.
* Explorers (ipywidgets sliders) need a running kernel to redraw. Their stored view output is
  replaced by a short note that points to the static twin figure beside the explorer (which every
  lecture has; tests/test_static_html.py checks that), and the saved widget state is dropped.
  Embedding the saved state with a local widget-manager bundle was the other way: it would show
  sliders that move but redraw nothing without a kernel, which misleads more than it shows, and
  it would need a JavaScript bundle the course does not otherwise have.
* Links to lectures point to their pages (``02_the_neuron.ipynb#x`` becomes
  ``02_the_neuron.html#x``); other relative links to files of the repository (the exercises)
  point to those files where they are, from DEST.

Every page is checked after it is written: one that refers to any http(s) address for a script,
a style sheet, a font, an image or a frame (``external_references``) stops the export with the
list. Links (``<a href>``) to web pages are fine; they load nothing by themselves.
"""
from __future__ import annotations

import argparse
import copy
import html as html_lib
import os
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

ROOT = Path(__file__).resolve().parents[2]
LECTURES = ROOT / "lectures"
DEFAULT_DEST = ROOT / "build" / "html"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Folder of DEST that holds the MathJax copy, and the configuration file MathJax loads.
MATHJAX_DIR = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
#: How many code cells before or after an explorer its static twin may be (as the static test).
TWIN_REACH = 2

NOTE_CLASS = "offline-explorer-note"

# nbconvert's JupyterLab template without the three scripts it would fetch from CDNs, and with
# MathJax loaded from MATHJAX_DIR beside the page. The MathJax settings are nbconvert's (same
# delimiters, equation numbers) plus the font settings the packaged copy needs: only the STIX web
# fonts are shipped, so MathJax must not look for local or image fonts. Its configuration block
# comes first so that MathJax reads it when it starts. Automatic line breaking and the quick
# preview pass are off: each made typesetting a long lecture several seconds slower.
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
    TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
    tex2jax: {
        inlineMath: [['$', '$'], ["\\(", "\\)"]],
        displayMath: [['$$', '$$'], ["\\[", "\\]"]],
        processEscapes: true,
        processEnvironments: true
    },
    "HTML-CSS": {
        availableFonts: [],
        preferredFont: null,
        webFont: "STIX-Web",
        imageFont: null
    },
    "fast-preview": {disabled: true},
    displayAlign: "center",
    messageStyle: "none",
    showMathMenu: false
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
<style>
/* MathJax's hidden copy of each formula for screen readers is native MathML, and MathJax's styles
   for it ask for TeX fonts that the packaged copy does not ship: it needs no web font. */
.MJX_Assistive_MathML [mathvariant] { font-family: inherit !important; }
</style>
{%- endblock html_head_js_mathjax -%}
"""


# ------------------------------------------------------------------------------- MathJax's files

def mathjax_source():
    """Folder of the MathJax 2 files shipped by the ``jupyter-server-mathjax`` package (holding
    MathJax.js, config/, extensions/, jax/ and fonts/)."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:
        raise RuntimeError("the package jupyter-server-mathjax is not installed; it is pinned in "
                           "requirements.txt: run `make setup`") from error
    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    config = MATHJAX_CONFIG.split(",")[0]
    for needed in ("MathJax.js", f"config/{config}.js", "fonts/HTML-CSS/STIX-Web/woff"):
        if not (static / needed).exists():
            raise RuntimeError(f"{static} has no {needed}: jupyter-server-mathjax is not the "
                               "version pinned in requirements.txt, or is damaged")
    return static


def copy_mathjax(dest):
    """Copy MathJax's files to ``dest/mathjax`` (files already there and as new are kept);
    return that folder."""
    target = Path(dest) / MATHJAX_DIR
    shutil.copytree(mathjax_source(), target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --------------------------------------------------------------------- the notebook, before export

def _has_png(cell):
    return cell.cell_type == "code" and any("image/png" in out.get("data", {})
                                            for out in cell.get("outputs", []))


def _twin_side(code_cells, k):
    """Where the static twin of the explorer in code cell number ``k`` is: "above", "below", or
    None when no code cell within TWIN_REACH has a figure. The explorer's own figure counts as
    "above" (it is shown before the note)."""
    if _has_png(code_cells[k]):
        return "above"
    for step in range(1, TWIN_REACH + 1):
        if k - step >= 0 and _has_png(code_cells[k - step]):
            return "above"
        if k + step < len(code_cells) and _has_png(code_cells[k + step]):
            return "below"
    return None


def note_html(side):
    """The note shown in place of an explorer, pointing to its static twin ``side`` ("above",
    "below" or None)."""
    twin = (f"The figure {side} is its static version. " if side
            else "This page has no static version of it. ")
    return (f'<div class="{NOTE_CLASS}" style="border-left: 4px solid #0072B2; padding: 0.4em 0.8em;'
            f' background: #f3f8fc;"><strong>Interactive explorer</strong> (sliders): it redraws '
            f"only with a running Python kernel, so it is not on this page. {twin}"
            f"Open the lecture in JupyterLab (<code>make lab</code>, or Binder) to move the "
            f"sliders.</div>")


def note_text(side):
    twin = f"the figure {side} is its static version" if side else "no static version here"
    return f"[Interactive explorer: needs a running kernel; {twin}. Open the lecture in JupyterLab.]"


def replace_widget_views(nb):
    """A copy of notebook ``nb`` in which every widget view output is a short note (a display,
    so it has no ``Out[n]:`` prompt) pointing to the explorer's static twin, and without the saved
    widget state. Return (copy, number of outputs replaced)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    replaced = 0
    for k, cell in enumerate(code_cells):
        outputs = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                side = _twin_side(code_cells, k)
                out = nbformat.v4.new_output("display_data", data={
                    "text/html": note_html(side), "text/plain": note_text(side)})
                replaced += 1
            outputs.append(out)
        cell.outputs = outputs
    return nb, replaced


def title_of(nb, fallback):
    """The text of the notebook's first markdown heading (markup removed), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", cell.source, re.M)
            if match:
                text = re.sub(r"[*_`]", "", match.group(1))
                return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).strip() or fallback
    return fallback


# --------------------------------------------------------------------------- the page, after export

_HREF = re.compile(r"""(<a\b[^>]*?\bhref=)(["'])([^"']*)\2""", re.I | re.S)


def rewrite_links(page, source_dir, dest, pages):
    """Rewrite the relative ``<a href>`` links of the HTML ``page`` (exported from a notebook in
    ``source_dir``, written to folder ``dest``): a link to a notebook in ``pages`` (a dict
    {resolved notebook path: page file name}) points to its page, keeping its #fragment; a link to
    any other existing file points to that file from ``dest``. Absolute addresses, anchors within
    the page and links to files that do not exist are left as they are."""
    dest = Path(dest).resolve()

    def replace(match):
        prefix, quote, href = match.groups()
        raw = html_lib.unescape(href)
        parts = urlsplit(raw)
        if parts.scheme or parts.netloc or not parts.path or raw.startswith("/"):
            return match.group(0)
        target = (Path(source_dir) / unquote(parts.path)).resolve()
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if target in pages:
            new = pages[target] + fragment
        elif target.exists():
            new = Path(os.path.relpath(target, dest)).as_posix() + fragment
        else:
            return match.group(0)
        return f"{prefix}{quote}{html_lib.escape(new, quote=True)}{quote}"

    return _HREF.sub(replace, page)


class _References(HTMLParser):
    """Collects what a page loads: (what, address) for script/img/iframe/... sources, style sheet
    links, and every url(...) or @import in style elements and style attributes."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "embed": "src", "source": "src",
             "audio": "src", "video": "src", "track": "src", "input": "src", "object": "data"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._in_style = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.found.append((f"<{tag} {self.LOADS[tag]}>", attrs[self.LOADS[tag]]))
        if tag in ("img", "source") and attrs.get("srcset"):
            for item in attrs["srcset"].split(","):
                if item.strip():
                    self.found.append((f"<{tag} srcset>", item.split()[0]))
        if tag == "link" and attrs.get("href"):
            self.found.append((f"<link rel={attrs.get('rel')}>", attrs["href"]))
        if tag in ("video",) and attrs.get("poster"):
            self.found.append(("<video poster>", attrs["poster"]))
        if attrs.get("style"):
            self.found.extend(css_references(attrs["style"], "style attribute"))
        self._in_style = tag == "style"
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._in_style = self._in_script = False

    def handle_data(self, data):
        if self._in_style:
            self.found.extend(css_references(data, "<style>"))
        elif self._in_script:
            # a script that fetches or imports from an address: import("…"), import … from "…",
            # fetch("…"), or an address assigned to a src
            for address in re.findall(
                    r"""(?:import\s*\(\s*|from\s+|fetch\s*\(\s*|\.src\s*=\s*|importScripts\s*\(\s*)"""
                    r"""["'`]([^"'`]+)["'`]""", data):
                self.found.append(("<script> code", address))


def css_references(css, where):
    """(where, address) for every @import and url(...) in the CSS text ``css``."""
    found = []
    for address in re.findall(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)""", css, re.I):
        found.append((f"@import in {where}", address))
    for address in re.findall(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""", css, re.I):
        found.append((f"url() in {where}", address))
    return found


def references(page):
    """Every address the HTML ``page`` would load by itself: [(what, address), ...]."""
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.found


def external_references(page):
    """The addresses of ``references(page)`` that are not on this machine: anything with a
    scheme other than ``data:`` and ``file:``, or a network location (``//host/...``)."""
    out = []
    for what, address in references(page):
        parts = urlsplit(address.strip())
        if parts.netloc or (parts.scheme and parts.scheme.lower() not in ("data", "file")):
            out.append((what, address))
    return out


# ----------------------------------------------------------------------------------- the export

def exporter(mathjax_url=f"{MATHJAX_DIR}/MathJax.js?config={MATHJAX_CONFIG}"):
    """nbconvert's HTMLExporter (JupyterLab template) with this module's offline template."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    return HTMLExporter(template_name="lab", template_file="offline.html.j2",
                        extra_loaders=[DictLoader({"offline.html.j2": TEMPLATE})],
                        mathjax_url=mathjax_url)


def page_name(path):
    """The page's file name for notebook ``path``: 02_the_neuron.ipynb -> 02_the_neuron.html."""
    return Path(path).with_suffix(".html").name


def export(path, dest, pages=None, html_exporter=None):
    """Export the notebook ``path`` to ``dest/<name>.html`` and return that path. ``pages`` maps
    the notebooks being exported together (resolved paths) to their page names, for links (by
    default only this notebook). The page must load nothing from the network (RuntimeError
    otherwise, listing what)."""
    path = Path(path).resolve()
    dest = Path(dest)
    pages = pages if pages is not None else {path: page_name(path)}
    nb, _ = replace_widget_views(nbformat.read(path, as_version=4))
    html_exporter = html_exporter or exporter()
    body, _ = html_exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title_of(nb, path.stem), "path": str(path.parent)}})
    body = rewrite_links(body, path.parent, dest, pages)
    external = external_references(body)
    if external:
        raise RuntimeError(f"{path.name}: the page would load from the network: {external}")
    out = dest / page_name(path)
    out.write_text(body, encoding="utf-8")
    return out


def lectures(root=ROOT):
    """The lecture notebooks, in order (lectures/*.ipynb)."""
    return sorted((Path(root) / "lectures").glob("*.ipynb"))


def export_all(dest=DEFAULT_DEST, notebooks=None):
    """Export ``notebooks`` (default: every lecture) to ``dest`` with MathJax beside them, links
    between them pointing to their pages; return the pages' paths in order."""
    notebooks = [Path(p).resolve() for p in (notebooks or lectures())]
    if not notebooks:
        raise RuntimeError("no notebook to export (lectures/ has no .ipynb)")
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    copy_mathjax(dest)
    pages = {p: page_name(p) for p in notebooks}
    html_exporter = exporter()
    return [export(p, dest, pages, html_exporter) for p in notebooks]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.html",
        description="Export the lectures to HTML pages that need no network (MathJax is copied "
                    "beside them).")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to export (default: every lectures/*.ipynb)")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST,
                        help=f"output folder (default: {DEFAULT_DEST.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        written = export_all(args.dest, args.notebooks or None)
    except (RuntimeError, FileNotFoundError) as error:
        sys.exit(f"error: {error}")
    for page in written:
        print(page)
    index = next((p for p in written if p.stem == "00_course_map"), written[0])
    print(f"{len(written)} pages and MathJax written to {args.dest} in "
          f"{time.monotonic() - started:.1f} s; open {index} in a browser (no network needed)")


if __name__ == "__main__":
    main()
