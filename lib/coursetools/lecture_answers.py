"""Worked answers to the lectures' exercises, kept for instructors in solutions/lectures/.

    python -m coursetools.lecture_answers lectures/11_backpropagation.ipynb [...] [--out DIR]

A lecture's "Exercises" section lists its exercises as ``**Exercise N (kind).** …``. A numeric or
code exercise has an *answer cell*, a code cell whose first line is ``# Exercise N: your answer``,
followed by a self-check cell (``selfcheck.practice``) that prints ``✓``, ``✗`` or ``…``.

The worked answers of lecture ``lectures/<stem>.ipynb`` are in ``solutions/lectures/<stem>.md``: one
section per exercise, headed ``## Exercise N``, with the reasoning in prose and, for an exercise
with an answer cell, one ``python`` code block that replaces that cell. The command above writes
each lecture with its answer cells replaced, executed, to DIR (default build/lecture-answers/),
and exits non-zero if a self-check does not answer ✓. The tests do the same.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ANSWERS_DIR = ROOT / "solutions" / "lectures"
ANSWER_CELL = re.compile(r"^# Exercise (\d+): your answer")
EXERCISE = re.compile(r"^\*\*Exercise (\d+)\b", re.M)
SECTION = re.compile(r"^## Exercise (\d+)\s*$", re.M)
CODE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
CHECK_LINE = re.compile(r"^([✓✗…]) (.*)$", re.M)


@dataclass
class WorkedAnswer:
    number: int
    text: str          # the reasoning, in Markdown (code blocks removed)
    code: str | None   # the code that replaces the answer cell, if any


def answers_path(lecture):
    return ANSWERS_DIR / (Path(lecture).stem + ".md")


def parse(path):
    """{N: WorkedAnswer} from a worked-answers file; ValueError on a malformed file."""
    text = Path(path).read_text(encoding="utf-8")
    heads = list(SECTION.finditer(text))
    if not heads:
        raise ValueError(f"{path}: no '## Exercise N' section")
    out = {}
    for k, m in enumerate(heads):
        body = text[m.end(): heads[k + 1].start() if k + 1 < len(heads) else len(text)]
        blocks = CODE.findall(body)
        if len(blocks) > 1:
            raise ValueError(f"{path}: exercise {m.group(1)} has {len(blocks)} python blocks, "
                             f"expected at most one (it replaces the answer cell)")
        n = int(m.group(1))
        if n in out:
            raise ValueError(f"{path}: exercise {n} appears twice")
        out[n] = WorkedAnswer(n, CODE.sub("", body).strip(), blocks[0] if blocks else None)
    return out


def exercises(nb):
    """The exercise numbers announced in the lecture's markdown (``**Exercise N``), in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [int(n) for n in EXERCISE.findall(cell.source)]
    return found


def answer_cells(nb):
    """{N: index of the answer cell of exercise N}."""
    cells = {}
    for i, cell in enumerate(nb.cells):
        m = ANSWER_CELL.match(cell.source) if cell.cell_type == "code" else None
        if m:
            cells[int(m.group(1))] = i
    return cells


def check_lines(nb):
    """Every self-check line the notebook's outputs print: [(mark, text)]."""
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            lines += CHECK_LINE.findall("".join(text))
    return lines


def problems(lecture):
    """What is missing or inconsistent between a lecture and its worked answers (a list of str)."""
    nb = nbformat.read(lecture, as_version=4)
    numbers = exercises(nb)
    path = answers_path(lecture)
    if not numbers:
        return [f"{lecture}: no exercise ('**Exercise N') found"]
    if not path.exists():
        return [f"{lecture}: its worked answers {path.relative_to(ROOT)} do not exist"]
    worked = parse(path)
    found = []
    for n in numbers:
        if n not in worked:
            found.append(f"{path.name}: exercise {n} has no worked answer")
        elif not worked[n].text:
            found.append(f"{path.name}: exercise {n} has code but no explanation")
    for n, i in answer_cells(nb).items():
        if n not in worked or worked[n].code is None:
            found.append(f"{path.name}: exercise {n} has an answer cell but no python block")
    for n, w in worked.items():
        if w.code is not None and n not in answer_cells(nb):
            found.append(f"{path.name}: exercise {n} has a python block but the lecture has no "
                         f"cell starting '# Exercise {n}: your answer'")
        if n not in numbers:
            found.append(f"{path.name}: exercise {n} is not in the lecture")
    return found


def answered(lecture):
    """The lecture notebook with every answer cell replaced by its worked answer (not executed)."""
    nb = nbformat.read(lecture, as_version=4)
    worked = parse(answers_path(lecture))
    for n, i in answer_cells(nb).items():
        nb.cells[i].source = f"# Exercise {n}: worked answer\n" + worked[n].code.rstrip("\n")
        nb.cells[i].outputs = []
    return nb


def run_answered(lecture, timeout=300):
    """Execute the answered lecture in a fresh kernel from the lecture's folder; return it."""
    from coursetools.execute import run
    return run(answered(lecture), Path(lecture).resolve().parent, timeout, keep_figures=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lectures", nargs="+")
    parser.add_argument("--out", default=str(ROOT / "build" / "lecture-answers"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for lecture in args.lectures:
        issues = problems(lecture)
        if issues:
            print("\n".join(issues))
            failed += 1
            continue
        nb = run_answered(lecture)
        nbformat.write(nb, out / Path(lecture).name)
        lines = check_lines(nb)
        bad = [f"  {m} {t}" for m, t in lines if m != "✓"]
        print(f"{lecture}: {sum(m == '✓' for m, _ in lines)} self-checks right"
              + (", not right:\n" + "\n".join(bad) if bad else ""))
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
