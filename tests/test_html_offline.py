"""Every lecture exported to HTML (make html, coursetools.html) reads right with no network.

Once per run the lectures are exported to a temporary folder, as `make html` does. Then:

* without a browser (marker `notebooks`, like tests/test_static_html.py): every page loads only
  files beside it (no http(s) address for a script, style sheet, @import, font, image or frame),
  those files exist, links to lectures point to their pages, and each explorer's view is replaced
  by the note pointing to its static twin;
* in headless Chromium (marker `browser`) with the network blocked (every host name resolves to
  nothing except localhost, and a proxy on a closed local port), each page is opened over file://,
  as a student double-clicking it would. The test waits on MathJax's own queue (a callback queued
  after MathJax is ready runs once the page's typesetting is done), then checks that the maths is
  typeset (every formula MathJax found has its rendered frame, no TeX error, no `$$`, `\\(`, `\\[`
  or `$…\\cmd…$` left in the visible text of markdown cells), that every image is decoded
  (naturalWidth > 0) and every stored figure shown, that every explorer shows its note and no
  output is an empty box, that every relative link leads to a file, and that no request went
  anywhere but local files (each request and each failed request is recorded by the browser's
  DevTools protocol through Playwright).

The time limits only catch hangs: on the project's 2-core machine at a load average of 6-8 the
export took about 40 s and one page 2-17 s (the whole file 3.5 min); each is minutes long.
Needs Chromium from the system for the browser part (skipped with a message otherwise).
"""
import re
import shutil
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from _chromium import MISSING_CHROMIUM, find_chromium, launched, playwright_or_skip

from coursetools import html

REPO = Path(__file__).resolve().parents[1]
LECTURES = html.lectures(REPO)
RESULTS = REPO / "results" / "html"
WIDGET_VIEW = html.WIDGET_VIEW
# Only catch hangs: loading and typesetting one lecture took 2-17 s on a busy 2-core machine.
PAGE_S = 300


# --------------------------------------------------------------------------------- the export

@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """{lecture's file name: (its notebook, its page)}: every lecture exported once, with MathJax
    beside the pages. The lectures (and the exercises they link to) are copied first, so that the
    pages and the notebooks the tests compare them with are the same version while others edit."""
    root = tmp_path_factory.mktemp("html")
    for name in ("lectures", "exercises"):
        shutil.copytree(REPO / name, root / "course" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    notebooks = html.lectures(root / "course")
    written = html.export_all(root / "pages", notebooks)
    return {nb.name: (nb, page) for nb, page in zip(notebooks, written)}


def widget_outputs(nb):
    return sum(WIDGET_VIEW in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


def png_outputs(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


def local_target(page, href):
    """The file a relative address in `page` points to (query and fragment dropped), or None for
    an absolute address or an anchor within the page."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


@pytest.mark.notebooks
@pytest.mark.parametrize("lecture", LECTURES, ids=[p.name for p in LECTURES])
def test_page_loads_only_files_beside_it(lecture, pages):
    if lecture.name not in pages:
        pytest.fail(f"{lecture.name} was removed or renamed while the tests ran")
    lecture, page = pages[lecture.name]
    text = page.read_text(encoding="utf-8")
    assert html.external_references(text) == [], f"{page.name} loads from the network"
    missing = [(what, address) for what, address in html.references(text)
               if (target := local_target(page, address)) is not None and not target.exists()]
    assert not missing, f"{page.name} refers to files that are not there: {missing}"
    assert f'src="{html.MATHJAX_DIR}/MathJax.js?config=' in text, "MathJax is not loaded from beside the page"

    links = [h for h in re.findall(r"<a\b[^>]*?\bhref=\"([^\"]*)\"", text)]
    to_notebooks = [h for h in links if (t := local_target(page, h)) and t.suffix == ".ipynb"
                    and t.parent == lecture.parent]
    assert not to_notebooks, f"{page.name} links to lecture notebooks instead of pages: {to_notebooks}"
    broken = [h for h in links if (t := local_target(page, h)) and not t.exists()]
    assert not broken, f"{page.name} has links to files that are not there: {broken}"

    nb = nbformat.read(lecture, as_version=4)
    assert text.count(f'class="{html.NOTE_CLASS}"') == widget_outputs(nb), \
        "every explorer's view should be replaced by the note pointing to its static twin"
    assert "application/vnd.jupyter.widget-state+json" not in text
    assert "application/vnd.jupyter.widget-view+json" not in text


# ------------------------------------------------------------- the rules themselves, on small inputs

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5Er"
       "kJggg==")


def small_notebook():
    md = nbformat.v4.new_markdown_cell(
        "# Lecture 98 · Test\n\n[next](99_next.ipynb#part-2) · [exercise](../exercises/x.ipynb) · "
        "[web](https://example.org/a.ipynb) · [gone](nowhere.ipynb)\n\nInline $x^2$ and\n$$y = 1$$")
    figure = nbformat.v4.new_code_cell("draw()", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])
    widget = nbformat.v4.new_code_cell("explorer(draw)", execution_count=2, outputs=[
        nbformat.v4.new_output("execute_result", execution_count=2, data={
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "abc"},
            "text/plain": "interactive(children=(...))"})])
    nb = nbformat.v4.new_notebook(cells=[md, figure, widget])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_explorer_views_become_notes_pointing_to_their_twin():
    nb = small_notebook()
    out, replaced = html.replace_widget_views(nb)
    assert replaced == 1 and "widgets" not in out.metadata and "widgets" in nb.metadata
    note = out.cells[2].outputs[0]
    assert note.output_type == "display_data", "an execute_result would show an Out[n]: prompt"
    assert WIDGET_VIEW not in note.data and "figure above" in note.data["text/html"]
    # the twin after the explorer, and no twin at all
    nb.cells[1], nb.cells[2] = nb.cells[2], nb.cells[1]
    assert "figure below" in html.replace_widget_views(nb)[0].cells[1].outputs[0].data["text/html"]
    del nb.cells[2]
    assert "no static version" in html.replace_widget_views(nb)[0].cells[1].outputs[0].data["text/html"]


def test_links_to_lectures_point_to_their_pages(tmp_path):
    source = tmp_path / "course" / "lectures"
    (tmp_path / "course" / "exercises").mkdir(parents=True)
    source.mkdir()
    (tmp_path / "course" / "exercises" / "x.ipynb").write_text("{}")
    dest = tmp_path / "out"
    page = ('<a href="99_next.ipynb#part-2">n</a> <a href="../exercises/x.ipynb">e</a> '
            '<a href="https://example.org/a.ipynb">w</a> <a href="nowhere.ipynb">g</a> '
            '<a href="#local">l</a>')
    done = html.rewrite_links(page, source, dest, {(source / "99_next.ipynb").resolve(): "99_next.html"})
    assert '<a href="99_next.html#part-2">' in done
    assert '<a href="../course/exercises/x.ipynb">' in done
    assert '<a href="https://example.org/a.ipynb">' in done
    assert '<a href="nowhere.ipynb">' in done and '<a href="#local">' in done


def test_external_references_finds_what_a_page_would_fetch():
    page = """<html><head>
    <script src="https://cdn.example/require.js"></script>
    <script src="mathjax/MathJax.js?config=X"></script>
    <link rel="stylesheet" href="//fonts.example/css">
    <link rel="stylesheet" href="local.css">
    <style>@import url("https://fonts.example/a.css"); @font-face {src: url(http://f.example/x.woff)}
    .a {background: url(data:image/png;base64,AAAA)}</style>
    <script type="module">const m = (await import("https://cdn.example/mermaid.mjs")).default;</script>
    </head><body><img src="data:image/png;base64,AAAA"><a href="https://example.org">a link</a>
    <div style="background: url('https://img.example/b.png')"></div></body></html>"""
    found = {address for _, address in html.external_references(page)}
    assert found == {"https://cdn.example/require.js", "//fonts.example/css", "https://fonts.example/a.css",
                     "http://f.example/x.woff", "https://cdn.example/mermaid.mjs",
                     "https://img.example/b.png"}
    assert ("<script src>", "mathjax/MathJax.js?config=X") in html.references(page)


def test_a_small_notebook_exports_offline(tmp_path):
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    nbformat.write(small_notebook(), lectures / "98_test.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), lectures / "99_next.ipynb")
    written = html.export_all(tmp_path / "out", [lectures / "98_test.ipynb", lectures / "99_next.ipynb"])
    assert [p.name for p in written] == ["98_test.html", "99_next.html"]
    assert (tmp_path / "out" / "mathjax" / "MathJax.js").is_file()
    text = written[0].read_text()
    assert html.external_references(text) == []
    assert "<title>Lecture 98 · Test</title>" in text
    assert 'href="99_next.html#part-2"' in text and html.NOTE_CLASS in text
    assert "Out[2]" not in text, "the explorer's note must not sit in an Out[n]: box"
    assert "require.min.js" not in text and "mermaid.esm" not in text


def test_export_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        html.export_all(tmp_path, [tmp_path / "absent.ipynb"])


# ------------------------------------------------------------------------------------ in Chromium

def closed_port():
    """A local port nothing listens on (bound, then released): the proxy that refuses everything."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    if find_chromium() is None:
        pytest.skip(MISSING_CHROMIUM)
    sync_api = playwright_or_skip()
    offline = ["--disable-default-apps", "--disable-extensions",
               # no network: no host name resolves (except localhost), and every proxied request
               # goes to a local port where nothing listens
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
               f"--proxy-server=127.0.0.1:{closed_port()}"]
    with launched(sync_api, offline) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PAGE_S * 1000)
        yield context


# What one page shows once MathJax is done (run in the page).
PAGE_STATE = r"""() => {
    const hidden = 'script, style, code, pre, .MathJax, .MathJax_Display, .MathJax_Preview, '
                 + '.MJX_Assistive_MathML, .MathJax_SVG, .MathJax_CHTML';
    const markdown = Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown'))
        .map(cell => {
            const copy = cell.cloneNode(true);
            copy.querySelectorAll(hidden).forEach(e => e.remove());
            return copy.textContent;
        });
    const jax = MathJax.Hub.getAllJax();
    const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
    return {
        markdown,
        formulas: jax.length,
        unrendered: jax.filter(j => !document.getElementById(j.inputID + '-Frame'))
                       .map(j => j.originalText),
        errors: jax.filter(j => {
                const frame = document.getElementById(j.inputID + '-Frame');
                const mathml = frame ? (frame.getAttribute('data-mathml') || '') : '';
                return (frame && frame.querySelector('.noError, .merror'))
                    || mathml.includes('<merror') || /<mtext mathcolor="red">\\/.test(mathml);
            }).map(j => j.originalText),
        images: Array.from(document.images).map(img => ({
            complete: img.complete, width: img.naturalWidth,
            src: img.getAttribute('src').slice(0, 40)})),
        notes: document.querySelectorAll('.offline-explorer-note').length,
        // an output box that shows nothing; a blank line printed by the cell is not one
        empty: outputs.filter(o => {
                          if (o.innerText.trim() || o.querySelector('img, svg, canvas, table')) return false;
                          const child = o.closest('.jp-OutputArea-child');
                          const prompt = child && child.querySelector('.jp-OutputPrompt');
                          const printed = o.classList.contains('jp-RenderedText') && o.querySelector('pre')
                                          && !(prompt && prompt.innerText.trim());
                          return !printed;
                      })
                      .map(o => {
                          const input = o.closest('.jp-Cell').querySelector('.jp-InputArea-editor');
                          return input ? input.textContent.trim().slice(0, 60) : '(no input)';
                      }),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    };
}"""

RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")


def raw_tex(markdown_texts):
    """Excerpts of visible markdown text that still hold TeX delimiters or commands."""
    found = []
    for text in markdown_texts:
        for match in RAW_TEX.finditer(text):
            found.append(text[max(0, match.start() - 30): match.end() + 30].replace("\n", " "))
    return found


def is_local(url):
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.hostname in ("localhost", "127.0.0.1", "::1")


@pytest.mark.browser
@pytest.mark.parametrize("lecture", LECTURES, ids=[p.name for p in LECTURES])
def test_page_shows_typeset_maths_figures_and_notes_offline(lecture, chromium, pages):
    if lecture.name not in pages:
        pytest.fail(f"{lecture.name} was removed or renamed while the tests ran")
    lecture, page_file = pages[lecture.name]
    nb = nbformat.read(lecture, as_version=4)
    page = chromium.new_page()
    requests, failed, errors = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(page_file.as_uri(), wait_until="load")
        # MathJax.js is a plain <script>: after "load" it has run, or it is missing
        assert page.evaluate("() => typeof window.MathJax === 'object' && !!MathJax.Hub"), \
            f"{page_file.name}: MathJax did not load (requests that failed: {failed})"
        # MathJax's own state: ready once it has started; a callback queued then runs after the
        # typesetting that its start-up queued
        page.wait_for_function("() => MathJax.isReady === true", timeout=PAGE_S * 1000)
        page.evaluate("() => { MathJax.Hub.Queue(() => { window.__typesetDone = true; }); }")
        page.wait_for_function("() => window.__typesetDone === true", timeout=PAGE_S * 1000)
        state = page.evaluate(PAGE_STATE)
    except Exception:
        RESULTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{page_file.stem}.png"))
        raise
    finally:
        page.close()

    name = page_file.name
    has_math = any(cell.cell_type == "markdown" and re.search(r"\$|\\\(|\\\[", cell.source)
                   for cell in nb.cells)
    if has_math:
        assert state["formulas"] > 0, f"{name}: the lecture has maths but MathJax found none"
    assert not state["unrendered"], f"{name}: formulas not typeset: {state['unrendered'][:5]}"
    assert not state["errors"], f"{name}: formulas MathJax could not typeset: {state['errors'][:5]}"
    left = raw_tex(state["markdown"])
    assert not left, f"{name}: TeX left as text in markdown cells: {left[:5]}"

    broken = [img["src"] for img in state["images"] if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"{name}: images not displayed: {broken}"
    assert len(state["images"]) >= png_outputs(nb), \
        f"{name}: {png_outputs(nb)} stored figures but {len(state['images'])} images on the page"
    assert state["notes"] == widget_outputs(nb), \
        f"{name}: {widget_outputs(nb)} explorers but {state['notes']} notes pointing to their twins"
    assert not state["empty"], f"{name}: outputs that show nothing, in cells: {state['empty']}"

    files = [unquote(urlsplit(url).path) for url in state["links"] if url.startswith("file:")]
    missing = sorted({path for path in files if not Path(path).exists()})
    assert not missing, f"{name}: links to files that are not there: {missing}"
    assert not [p for p in files if p.endswith(".ipynb") and Path(p).parent == lecture.parent], \
        f"{name}: links to lecture notebooks instead of their pages"

    remote = [url for url in requests if not is_local(url)]
    assert not remote, f"{name}: requests that would leave the machine: {remote}"
    # MathJax probes whether web fonts load with a font whose source is about:blank; that request
    # fails by design and leaves nothing
    failed = [(url, why) for url, why in failed if url != "about:blank"]
    assert not failed, f"{name}: requests that failed: {failed}"
    assert not errors, f"{name}: JavaScript errors: {errors}"
