"""Every lecture reads right as a static page: nbconvert's HTML, with no kernel and no execution.

Each notebook in lectures/ is converted in-process with nbconvert's HTMLExporter (the exporter
behind `jupyter nbconvert --to html`, default template) from its stored outputs, and:

1. Figures are embedded. For every code-cell output with `image/png` data, that exact base64 data
   appears in the HTML as a `data:image/png;base64,` image. Every `<img>` in the HTML has a
   `data:` source (no image depends on a file beside the page or on the network). No output is a
   figure that lost its picture (a `<Figure size ...>` text with no image).
2. The lecture shows at least one figure (lectures are committed executed, each with a figure).
3. Every widget has a static twin. A *widget cell* is a code cell with an output of MIME type
   `application/vnd.jupyter.widget-view+json` (a slider, `interact`, an explorer). Without a live
   kernel such an output shows at most a text placeholder, so the rule is: the widget cell itself,
   or one of the TWIN_REACH code cells just before or just after it (counting code cells only;
   markdown and raw cells in between are skipped), must have an `image/png` output, and that
   output must be embedded in the HTML (rule 1). Which function draws the twin is not checked
   (a twin may call the explorer's drawing function or the helpers it uses); the failure message
   names the widget cell's source so that the missing figure is easy to add.
"""
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

REPO = Path(__file__).resolve().parents[1]
LECTURES = sorted((REPO / "lectures").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TWIN_REACH = 2


@pytest.fixture(scope="module")
def exporter():
    return HTMLExporter()


def png_outputs(cell):
    """The base64 PNG data (whitespace removed) of every output of a code cell."""
    if cell.cell_type != "code":
        return []
    data = [out.get("data", {}).get("image/png") for out in cell.get("outputs", [])]
    return ["".join(d.split()) if isinstance(d, str) else "".join("".join(d).split())
            for d in data if d]


def has_widget(cell):
    return cell.cell_type == "code" and any(WIDGET_VIEW in out.get("data", {})
                                            for out in cell.get("outputs", []))


def embedded_pngs(html):
    """The base64 data of every PNG embedded in the HTML, whitespace removed."""
    return {"".join(m.split()) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)",
                                                   html)}


def excerpt(cell, index):
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else "(empty)"
    return f"cell {index} ({first[:70]!r})"


def problems(nb, html):
    """What breaks rules 1-3 for notebook `nb` exported as `html` (an empty list when none)."""
    found = []
    embedded = embedded_pngs(html)

    # 1. figures embedded, and nothing else linked
    missing = [excerpt(cell, i) for i, cell in enumerate(nb.cells)
               if any(png not in embedded for png in png_outputs(cell))]
    if missing:
        found.append(f"figures stored but not embedded in the HTML: {missing}")
    linked = [src for src in re.findall(r"<img\b[^>]*?\bsrc=[\"']([^\"']*)", html)
              if not src.startswith("data:")]
    if linked:
        found.append(f"images that are not embedded in the page: {linked}")
    lost = [excerpt(cell, i) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", [])
            if str(out.get("data", {}).get("text/plain", "")).startswith("<Figure size")
            and "image/png" not in out.get("data", {})]
    if lost:
        found.append(f"figures stored as text only (no image): {lost}")

    # 2. at least one figure
    if not any(png_outputs(cell) for cell in nb.cells):
        found.append("no figure in the stored outputs (is the lecture committed executed?)")

    # 3. a static twin beside every widget
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    orphans = []
    for k, i in enumerate(code):
        if has_widget(nb.cells[i]):
            around = code[max(0, k - TWIN_REACH): k + TWIN_REACH + 1]
            if not any(png_outputs(nb.cells[j]) for j in around):
                orphans.append(excerpt(nb.cells[i], i))
    if orphans:
        found.append(f"widget output without a static figure within {TWIN_REACH} code cells "
                     f"(add a cell that calls the same drawing function and shows its figure): "
                     f"{orphans}")
    return found


@pytest.mark.parametrize("path", LECTURES, ids=[p.name for p in LECTURES])
def test_lecture_html_embeds_figures_and_static_twins(path, exporter):
    nb = nbformat.read(path, as_version=4)
    html, _ = exporter.from_notebook_node(nb)
    found = problems(nb, html)
    assert not found, f"{path.name}:\n- " + "\n- ".join(found)


# ----------------------------------------------------------- the rules themselves, on small notebooks

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def figure_cell(source="draw(1)"):
    return nbformat.v4.new_code_cell(source, execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])


def widget_cell(source="explorer(draw, a=(0, 2))"):
    return nbformat.v4.new_code_cell(source, execution_count=2, outputs=[
        nbformat.v4.new_output("display_data", data={
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "abc"},
            "text/plain": "interactive(children=(...))"})])


def text_cell(source="x = 1"):
    return nbformat.v4.new_code_cell(source, execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="1\n")])


def check(cells, exporter):
    nb = nbformat.v4.new_notebook(cells=cells)
    return problems(nb, exporter.from_notebook_node(nb)[0])


def test_rules_accept_a_widget_with_its_twin(exporter):
    def md():
        return nbformat.v4.new_markdown_cell("Explore:")
    assert check([figure_cell(), md(), text_cell(), md(), widget_cell()], exporter) == []
    assert check([widget_cell(), text_cell(), figure_cell()], exporter) == []


def test_rules_reject_a_widget_far_from_any_figure(exporter):
    found = check([figure_cell(), text_cell(), text_cell(), text_cell(), widget_cell()], exporter)
    assert len(found) == 1 and "without a static figure" in found[0] and "explorer(draw" in found[0]


def test_rules_reject_lost_and_linked_figures(exporter):
    lost = nbformat.v4.new_code_cell("plt.figure()", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure size 640x480 with 0 Axes>"})])
    linked = nbformat.v4.new_markdown_cell("![a figure](figures/loss.png)")
    found = check([lost, linked], exporter)
    assert any("text only" in f for f in found)
    assert any("figures/loss.png" in f for f in found)
    assert any("no figure" in f for f in found)
