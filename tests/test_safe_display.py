"""A student's work made safe to show in the instructor's browser (coursetools.safe_display).

The graded copy of a submission is rendered by the Formgrader inside the instructor's own Jupyter
server: HTML that runs there runs as the instructor. Each layer is checked on its own here; the
hostile catalogue (tests/test_grading_hostile.py, "injects_html") checks them together on a
graded submission.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from coursetools import safe_display as sd

PAYLOADS = ["<script>STEAL()</script>", "<img src=x onerror=\"STEAL()\">",
            "<a href=\"javascript:STEAL()\">x</a>", "<a href=\"JaVaScRiPt&#58;STEAL()\">x</a>",
            "<iframe src=\"data:text/html,STEAL\"></iframe>", "<svg onload=\"STEAL()\"></svg>",
            "<style>body{background:url(javascript:STEAL())}</style>", "<form action=\"x\"><input></form>",
            "<div onmouseover='STEAL()'>x</div>", "<object data=\"x\"></object>", "<!-- <script>STEAL() -->"]


def _runs(html):
    """Tags or attributes through which a page could run code."""
    return re.findall(r"<(?:script|iframe|object|embed|style|svg|form|input)\b|\son\w+\s*=|"
                      r"(?:href|src|action)\s*=\s*[\"']?\s*(?:javascript|vbscript|data:text)", html, re.I)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_clean_html_leaves_nothing_that_runs(payload):
    cleaned = sd.clean_html(f"<p>before {payload} after</p>")
    assert _runs(cleaned) == [], cleaned
    assert "before" in cleaned and "after" in cleaned


def test_clean_html_keeps_what_notebooks_show():
    html = ("<h2>Result</h2><p><b>bold</b> <em>it</em> <code>x</code></p>"
            "<table class=\"dataframe\"><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr>"
            "</tbody></table><img src=\"data:image/png;base64,AAAA\" alt=\"plot\">"
            "<a>link</a><ul><li>one</li></ul>")
    assert sd.clean_html(html) == html


def test_safe_bundle_keeps_text_and_images_cleans_html_and_drops_the_rest():
    bundle = {"text/plain": "x", "image/png": "AAAA", "text/html": "<b>b</b><script>STEAL()</script>",
              "application/javascript": "STEAL()", "image/svg+xml": "<svg onload='STEAL()'/>",
              "text/markdown": "<script>STEAL()</script>", "text/latex": r"$\href{javascript:STEAL()}{x}$"}
    safe = sd.safe_bundle(bundle)
    assert set(safe) == {"text/plain", "image/png", "text/html"}
    assert safe["text/html"] == "<b>b</b>STEAL()"
    only_unsafe = sd.safe_bundle({"application/javascript": "STEAL()"})
    assert only_unsafe == {"text/plain": "[an output of type application/javascript: not shown in "
                                         "the graded copy]"}


@pytest.mark.parametrize("source, shown", [
    ("a <script>STEAL()</script> b", "a &lt;script>STEAL()&lt;/script> b"),
    ("x < y & z", "x &lt; y &amp; z"),
    ("[l](javascript:STEAL())", "[l](javascript%3ASTEAL())"),
    ("[l](JaVaScRiPt\\:STEAL())", "[l](JaVaScRiPt\\%3ASTEAL())"),
    ("[l](&#106;avascript:STEAL())", "[l](&amp;#106;avascript:STEAL())"),  # no reference decodes
    ("[r]: data:text/html,STEAL", "[r]: data%3Atext/html,STEAL"),
    ("$\\href{https://x}{y}$ $\\require{action}$", "$\\\\href{https://x}{y}$ $\\\\require{action}$"),
    ("the metadata: stays", "the metadata: stays"),
])
def test_a_student_s_markdown_keeps_its_text_but_cannot_open_a_tag_or_a_link_that_runs(source, shown):
    assert sd.escape_markdown_html(source) == shown


def _notebook():
    released = nbformat.v4.new_notebook()
    released.cells = [nbformat.v4.new_markdown_cell("# Exercise <b>1</b>"),
                      nbformat.v4.new_raw_cell("<b>instructor's raw</b>")]
    graded = nbformat.reads(nbformat.writes(released), as_version=4)
    code = nbformat.v4.new_code_cell("display(...)")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<i>i</i><img src=x onerror='STEAL()'>", "text/plain": "i"})]
    raw = nbformat.v4.new_raw_cell("<script>STEAL('raw ```')</script>")
    raw.metadata["format"] = "text/html"
    graded.cells += [nbformat.v4.new_markdown_cell("mine <img src=x onerror='STEAL()'>"), raw, code]
    return released, graded


def test_make_safe_cleans_the_student_s_cells_and_outputs_and_keeps_the_instructor_s():
    released, graded = _notebook()
    sd.make_safe(graded, released)
    instructor_md, instructor_raw, md, raw, code = graded.cells
    assert instructor_md.source == "# Exercise <b>1</b>" and instructor_raw.cell_type == "raw"
    assert md.source == "mine &lt;img src=x onerror='STEAL()'>"
    assert raw.cell_type == "markdown" and "format" not in raw.metadata
    assert raw.source == "````text\n<script>STEAL('raw ```')</script>\n````"   # a longer fence
    assert code.outputs[0]["data"] == {"text/html": "<i>i</i><img>", "text/plain": "i"}   # not inline: no src
    nbformat.validate(graded)


def test_the_course_s_markdown_filter_makes_no_link_or_tag_that_runs():
    """nbgrader_config.py puts safe_display.markdown2html in place of nbconvert's, also for the
    Formgrader's template, which renders Markdown cells without nbconvert's sanitizing."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "## Heading\n\n[bad](javascript:STEAL()) [good](https://example.org) <img src=x onerror=\"STEAL()\">"
        "\n\n<script>STEAL()</script>\n\n| a |\n|---|\n| 1 |")]
    config = Config()
    config.HTMLExporter.filters = {"markdown2html": "coursetools.safe_display.markdown2html"}
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    html, _ = HTMLExporter(config=config).from_notebook_node(
        nb, resources={"base_url": "", "notebook_id": "n", "submission_id": "s", "index": 0, "total": 1,
                       "notebook_path": "", "mathjax_url": ""})
    body = html[html.index("text_cell_render"):]
    assert "STEAL" in body and _runs(body.split("</div>")[0]) == []
    assert "<h2" in body and "<a>good</a>" in body and "<table>" in body   # a link keeps its text


def test_cleaning_is_bounded_a_student_cannot_make_it_take_minutes():
    """bleach cleans about 100 kB of HTML a second: an output past MAX_CLEANED, or past the
    notebook's budget, keeps only its plain-text form; a page's filter escapes such HTML at once;
    a huge Markdown cell of the student's is shortened in the graded copy."""
    import time
    huge = "<table>" + "<tr><td>1</td><td><b>x</b></td></tr>" * 40_000 + "</table>"   # 1.4 MB
    start = time.perf_counter()
    assert sd.safe_bundle({"text/html": huge, "text/plain": "t"}) == {"text/plain": "t"}
    escaped = sd.clean_html(huge)
    assert escaped.startswith("&lt;table&gt;") and "<" not in escaped
    released, graded = _notebook()
    part = "<p>" + "word " * (sd.MAX_CLEANED // 6) + "</p>"                       # just under the limit
    code = graded.cells[-1]
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": part, "text/plain": f"p{i}"})
                    for i in range(12)]
    graded.cells.append(nbformat.v4.new_markdown_cell("<b>x</b>" * (sd.MAX_STUDENT_TEXT // 4)))
    sd.make_safe(graded, released)
    kept = [o["data"] for o in code.outputs if "text/html" in o["data"]]
    assert 1 <= len(kept) <= sd.NOTEBOOK_HTML_BUDGET // len(part)
    assert all(o["data"]["text/plain"] == f"p{i}" for i, o in enumerate(code.outputs))
    assert graded.cells[-1].source.endswith("more characters, not shown in the graded copy]")
    assert len(graded.cells[-1].source) < 2 * sd.MAX_STUDENT_TEXT
    assert time.perf_counter() - start < 60          # a hang catcher; about 4 s on a busy machine


def test_images_come_only_from_the_page_and_links_never_to_data():
    """An image from elsewhere tells whoever serves it when the instructor opened the page, and
    from where; a data: link is a page the link makes up itself."""
    kept = sd.clean_html('<img src="data:image/png;base64,iVBORw0KGgo=" alt="a figure">')
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in kept and 'alt="a figure"' in kept
    for html in ('<img src="https://tracker.example/p.png?who=ana" alt="x">',
                 '<img src="//tracker.example/p.png">', '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
                 '<img src=" HTTPS://tracker.example/p.png">'):
        assert "src" not in sd.clean_html(html), html
    for html in ('<a href="data:text/html,<b>x</b>">x</a>', '<a href=" DATA:text/html,x">x</a>'):
        assert "href" not in sd.clean_html(html), html
    assert sd.clean_html('<a href="https://numpy.org">numpy</a>') == "<a>numpy</a>"
    page = sd.markdown2html({"cell": {}, "resources": {}}, "![me](https://tracker.example/p.png?who=ana)")
    assert "tracker.example" not in page


def test_the_student_s_text_has_a_budget_for_the_whole_notebook():
    """300 Markdown cells just under the per-cell limit would make a page of 30 MB."""
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# The exercise")])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# The exercise")] + [
        nbformat.v4.new_markdown_cell(f"{i} " + "x" * (sd.MAX_STUDENT_TEXT - 10)) for i in range(300)])
    sd.make_safe(nb, released)
    shown = sum(len(c.source) for c in nb.cells[1:])
    assert shown < sd.NOTEBOOK_TEXT_BUDGET + 300 * 200
    assert nb.cells[0].source == "# The exercise"
    assert nb.cells[1].source.startswith("0 xxx") and "not shown in the graded copy" in nb.cells[-1].source


def test_the_student_s_code_has_a_budget_for_the_whole_notebook():
    """Highlighting 3 MB of one character took 42 s per page: the student's code cells are
    shortened in the graded copy (the instructor's cells never)."""
    given = "check('test_softmax')\n" + "x = 1\n" * (sd.MAX_STUDENT_TEXT // 3)
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(given)])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(given)] + [
        nbformat.v4.new_code_cell("@" * 3_000_000) for _ in range(5)])
    sd.make_safe(nb, released)
    assert nb.cells[0].source == given
    shown = sum(len(c.source) for c in nb.cells[1:])
    assert shown < sd.NOTEBOOK_CODE_BUDGET + 5 * 200
    assert nb.cells[1].source.endswith("# [… 2,900,000 more characters, not shown in the graded copy]")
    assert "not shown in the graded copy" in nb.cells[-1].source


def test_hidden_test_markers_in_the_student_s_cells_do_not_stop_the_feedback():
    """nbgrader's feedback refuses a notebook with a hidden-test region outside a test cell."""
    from nbgrader.preprocessors import ClearHiddenTests
    given = "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(given),
                                         nbformat.v4.new_markdown_cell(given)])
    sd.make_safe(nb, released)
    assert "BEGIN-HIDDEN-TESTS (as the student wrote it)" in nb.cells[0].source
    ClearHiddenTests().preprocess(nb, {})                      # raises on a marker left as it was


def test_a_link_keeps_its_text_but_leads_nowhere():
    """On a hub every user's server shares the instructor's origin: a relative link to a page
    that a student's own server makes would act as the instructor once clicked. Links keep
    their text, from outputs and from Markdown alike."""
    for html in ('<a href="x.html">open me</a>', '<a href="/user/bob/x.html">open me</a>',
                 '<a href="//hub.example/user/bob/x.html">open me</a>',
                 '<a href="https://hub.example/user/bob/x.html">open me</a>'):
        assert sd.clean_html(html) == "<a>open me</a>", html
    page = sd.markdown2html({"cell": {}, "resources": {}}, "[open me](../../user/bob/x.html)")
    assert "href" not in page and "open me" in page


def test_an_output_cannot_take_the_page_s_own_styles_or_cover_it():
    """Bootstrap's classes (the Formgrader and the feedback pages load it) let an output pin a
    fake "Score 20 / 20" over the page; a stretched image covered the rest."""
    html = ('<div class="navbar navbar-fixed-top"><span class="pull-right label label-success">'
            'Score: 20.0 / 20.0</span></div><div class="modal-backdrop in">x</div>'
            '<img src="data:image/png;base64,AAAA" width="1800" height="3000">'
            '<img src="data:image/png;base64,AAAA" width="400" height="300">'
            '<table class="dataframe"><tr><td>1</td></tr></table>')
    cleaned = sd.clean_html(html)
    for word in ("navbar", "pull-right", "label-success", "modal-backdrop", "1800", "3000"):
        assert word not in cleaned, word
    assert 'width="400" height="300"' in cleaned and 'class="dataframe"' in cleaned


def test_the_student_s_outputs_have_a_budget_for_the_whole_notebook():
    """100 cells of 200,000 printed characters and 48 images of 1.9 MB made a 116 MB feedback
    page and a 90 MB graded copy: past the notebook's budget an output becomes one line."""
    from coursetools import grading
    budget = [grading.OUTPUT_TEXT_BUDGET, grading.OUTPUT_DATA_BUDGET]
    printed = [{"output_type": "stream", "name": "stdout", "text": "\x1b[31mx\x1b[0m" * 20_000}]
    image = [{"output_type": "display_data", "data": {"image/png": "A" * 1_900_000,
                                                      "text/plain": "<Figure>"}}]
    cells = [grading._clean_outputs(printed, budget) for _ in range(100)]
    cells += [grading._clean_outputs(image, budget) for _ in range(48)]
    text = sum(len(o.get("text", "")) for c in cells for o in c)
    data = sum(len(str(o.get("data", ""))) for c in cells for o in c)
    assert text <= grading.OUTPUT_TEXT_BUDGET + 148 * 200
    assert data <= grading.OUTPUT_DATA_BUDGET + 2_000_000
    assert cells[0][0]["text"].startswith("\x1b[31mx")                 # the first ones are shown
    assert "not shown in the graded copy" in cells[99][0]["text"]
    assert "not shown in the graded copy" in cells[-1][0]["text"]
