"""The judge of a graded exercise: its checks, written by the instructor, run outside the student's
kernel.

Each assignment has, beside its instructor notebook, a file ``solutions/<assignment>/checks.py``
that says what every test cell checks (nbgrader never copies it to the students)::

    import numpy as np
    from coursetools.judge import Assignment, call
    from nnlib import activations as ref

    assignment = Assignment("ex01_neurons")

    @assignment.test("test_sigmoid", name="sigmoid", points=3)
    def _(t):
        v = np.array([-2.0, 0.0, 2.0])
        t.values(call("sigmoid", v), expected=ref.sigmoid(v))
        with t.hidden():                       # graded, never shown to the student beforehand
            v = np.random.default_rng(1).normal(size=(5, 4))
            t.values(call("sigmoid", v), expected=ref.sigmoid(v),
                     hints=[(lambda v: 1 / (1 + np.exp(-v)), "use the stable form")])

A check is a *probe*, an expression the student's kernel evaluates with some inputs
(``call("sigmoid", v)`` is ``sigmoid(v)``; ``probe("f(X)[0]", X=…)`` is any expression), and what
to compare its value with: ``values`` (an expected value, tolerances and hints: values that known
mistakes give, with what to say), ``shape``, ``derivative`` (expected: centred differences of a
forward function) or ``satisfies`` (a condition on the value). Expected values, hints, hidden
inputs and points stay here: the student's kernel receives only the probes and their inputs, in
a sandbox, after the student's last cell, and hands back what the functions returned. The
visible checks, with their expected values, go to ``visible_checks.json`` beside the student
notebook (``write_visible``), so that ``check("test_sigmoid")`` works in JupyterLab with the very
same messages.

``Assignment(library=…)`` names the parts of the course library the exercise may use while graded;
in the sandbox every other part of ``nnlib`` keeps its names but has no implementations
(``build_library``), so an answer cannot call the library's own solution.
"""
from __future__ import annotations

import ast
import compileall
import contextlib
import copy
import importlib.util
import json
import shutil
import warnings
from pathlib import Path

import numpy as np

from selfcheck import codec
from selfcheck.compare import describe, structure_of
from selfcheck.verdict import judge as judge_test

CHECKS_FILE = "checks.py"
VISIBLE_FILE = "visible_checks.json"
#: Parts of the course library every exercise may use (figures, data sets, style).
DEFAULT_LIBRARY = ("nnlib.style", "nnlib.data", "nnlib.plotting", "nnlib.widgets")


class Probe:
    """An expression for the student's kernel, with its inputs and how to show it."""

    def __init__(self, expr, inputs, shown, args=None, kwargs=None):
        self.expr, self.inputs, self.shown = expr, dict(inputs), shown
        self.args, self.kwargs = args, kwargs

    def with_args(self, func):
        """``func`` called on copies of this probe's arguments (for a call probe)."""
        if self.args is None:
            raise ValueError(f"{self.expr}: only call(...) probes can compute from their arguments")
        return func(*copy.deepcopy(self.args), **copy.deepcopy(self.kwargs))


def call(function, *args, **kwargs):
    """The probe ``function(*args, **kwargs)``: calls the student's ``function``."""
    inputs = {f"_a{i}": a for i, a in enumerate(args)}
    inputs.update({f"_k_{k}": v for k, v in kwargs.items()})
    parts = [f"_a{i}" for i in range(len(args))] + [f"{k}=_k_{k}" for k in kwargs]
    shown = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
    return Probe(f"{function}({', '.join(parts)})", inputs, f"{function}({shown})", args, kwargs)


def probe(expr, **inputs):
    """The probe ``expr`` (any expression on the student's names and the ``inputs``)."""
    return Probe(expr, inputs, expr)


class Test:
    """The checks of one test cell (filled in by the function the instructor decorates)."""

    def __init__(self, test_id, name, points, prelude=""):
        self.id, self.name, self.points, self.prelude = test_id, name, float(points), prelude
        self.cases = []
        self._hidden = False

    @contextlib.contextmanager
    def hidden(self):
        """Checks added inside this block are graded but never shown to students beforehand."""
        self._hidden = True
        try:
            yield self
        finally:
            self._hidden = False

    def _add(self, p, kind, label, weight, weak=False, **fields):
        if not isinstance(p, Probe):
            raise TypeError(f"{self.id}: a check needs a probe (call(...) or probe(...)), got {p!r}")
        for key, value in p.inputs.items():
            encoded = codec.encode(value)
            if _unsupported(encoded):
                raise TypeError(f"{self.id}: the input {key} of {p.expr} is not data "
                                f"({type(value).__name__}); write functions into the expression")
        case = {"id": f"{self.id}/{len(self.cases)}", "kind": kind, "expr": p.expr,
                "inputs": p.inputs, "where": f"{self.name}({label})" if label else p.shown,
                "weight": float(weight), "hidden": self._hidden, **fields}
        if weak:
            case["weak"] = True
        self.cases.append(case)
        return case

    def values(self, p, expected, rtol=1e-6, atol=1e-9, weight=1.0, hints=(), label=None, weak=False):
        """The probe's value must equal ``expected`` within atol + rtol·|expected|, entry by entry.

        ``hints``: pairs (wrong, text); ``wrong`` is the value a known mistake gives, or a function
        that computes it from the probe's arguments. A failed check whose value matches it says
        ``text``. ``weak``: an answer that does nothing passes this check (an edge case whose
        answer is an input, zeros, "unchanged"): it then counts only beside the test's main
        checks (``selfcheck.verdict.judge``).
        """
        wrong_values = []
        for wrong, text in hints:
            if callable(wrong):
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        wrong = p.with_args(wrong)
                except Exception:
                    continue
            wrong_values.append((wrong, text))
        return self._add(p, "values", label, weight, weak, expected=expected, rtol=rtol, atol=atol,
                         hints=wrong_values)

    def shape(self, p, expected_shape, weight=1.0, label=None, weak=False):
        """The probe's value must have shape ``expected_shape`` (``weak``: as for ``values``)."""
        return self._add(p, "shape", label, weight, weak, expected_shape=list(expected_shape))

    def derivative(self, p, forward, index=0, h=1e-6, rtol=1e-5, atol=1e-7, weight=1.0, label=None):
        """The probe (a call) must return d forward / d args[index], elementwise: its expected
        value is the centred difference (f(x + h) − f(x − h)) / 2h of ``forward`` at the same input."""
        args = list(p.args)
        x = np.asarray(args[index], dtype=float)
        plus, minus = list(args), list(args)
        plus[index], minus[index] = x + h, x - h
        with np.errstate(all="ignore"):
            numeric = (np.asarray(forward(*plus, **p.kwargs)) - np.asarray(forward(*minus, **p.kwargs))) / (2 * h)
        return self.values(p, numeric, rtol=rtol, atol=atol, weight=weight, label=label,
                           hints=[(-numeric, "the sign of your derivative is flipped.")])

    def satisfies(self, p, test, message, weight=1.0, label=None, like=None, weak=False):
        """The probe's value ``r`` must make the expression ``test`` true (e.g. ``"r >= 0.9"``);
        ``message`` says what was wanted when it does not.

        The expression runs where the check is judged (for the grade: in the grading process,
        outside the sandbox). When it computes on arrays the student's code chose, give ``like``,
        a value of the form ``r`` must have (the same dict keys, array shapes and kinds of
        numbers): a value of another form fails before the expression sees it, so that it
        cannot broadcast into an array larger than any answer needs."""
        fields = {"test": test, "message": message}
        if like is not None:
            fields["like"] = structure_of(like)
        return self._add(p, "satisfies", label, weight, weak, **fields)

    def judged(self, p, fn, message, weight=1.0, label=None, weak=False):
        """A hidden check judged by ``fn(r)`` (True or False) on the probe's value ``r``, here in
        the grading process: for what an expression cannot say, such as the accuracy of the
        network a student's ``train`` returned, computed with the course's own forward pass.
        ``fn`` must check the form and size of ``r`` before computing on it (the student's
        code chose them); any exception counts as a failed check."""
        if not self._hidden:
            raise ValueError(f"{self.id}: a judged check must be hidden (visible checks also run "
                             f"in the student's kernel, from JSON)")
        return self._add(p, "judged", label, weight, weak, fn=fn, message=message)


def hint_values(hints, *args, **kwargs):
    """[(value, text)]: what each wrong variant ``func`` of ``hints`` [(func, text)] gives on these
    inputs, for ``Test.values(hints=...)`` when the probe is not a call of the same arguments. A
    variant that fails (a shape that does not fit, say) is left out."""
    out = []
    for func, text in hints:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out.append((func(*args, **kwargs), text))
        except Exception:
            continue
    return out


def _unsupported(encoded):
    if isinstance(encoded, dict):
        return "unsupported" in encoded or any(_unsupported(v) for v in encoded.values())
    if isinstance(encoded, list):
        return any(_unsupported(v) for v in encoded)
    return False


class Assignment:
    """The checks of one assignment: its tests, in notebook order, and the library it may use.

    ``cell_seconds``: the time limit of one cell when this assignment is graded (None: the
    grader's default; GRADING_CELL_SECONDS overrides either). Choose it from the solution: about
    ten times its slowest cell on a loaded grading machine, so that only a hang reaches it."""

    def __init__(self, name, library=DEFAULT_LIBRARY, prelude="", cell_seconds=None):
        self.name, self.library, self.prelude = name, tuple(library), prelude
        if cell_seconds is not None and not (isinstance(cell_seconds, int) and cell_seconds > 0):
            raise ValueError(f"{name}: cell_seconds must be a positive whole number of seconds, "
                             f"got {cell_seconds!r}")
        self.cell_seconds = cell_seconds
        self._builders = []
        self._tests = None

    def test(self, test_id, name=None, points=1.0, prelude=""):
        """Decorator: the function fills in the checks of the test cell ``test_id``."""
        def register(build):
            self._builders.append((test_id, name or test_id, points, prelude, build))
            return build
        return register

    def tests(self):
        """{test id: Test}, built once."""
        if self._tests is None:
            tests = {}
            for test_id, name, points, prelude, build in self._builders:
                t = Test(test_id, name, points, "\n".join(p for p in (self.prelude, prelude) if p))
                build(t)
                if not t.cases:
                    raise ValueError(f"{self.name}: {test_id} has no checks")
                tests[test_id] = t
            self._tests = tests
        return self._tests

    def points(self):
        return {tid: t.points for tid, t in self.tests().items()}

    def judge_plan(self):
        """{test id: {"name", "points", "cases"}} for ``selfcheck.verdict.judge`` (values decoded)."""
        return {tid: {"name": t.name, "points": t.points, "cases": t.cases}
                for tid, t in self.tests().items()}

    def probe_plan(self):
        """What the student's kernel gets: every probe and its inputs, nothing to judge them by."""
        return {"assignment": self.name, "tests": {
            tid: {"prelude": t.prelude, "cases": [
                {"id": c["id"], "expr": c["expr"],
                 "inputs": {k: codec.encode(v) for k, v in c["inputs"].items()}}
                for c in t.cases]}
            for tid, t in self.tests().items()}}

    def visible_plan(self):
        """The visible checks with their expected values and hints, for ``selfcheck.check``."""
        tests = {}
        for tid, t in self.tests().items():
            cases = []
            for c in t.cases:
                if c["hidden"]:
                    continue
                out = {k: c[k] for k in ("id", "kind", "expr", "where", "weight")}
                if c.get("weak"):
                    out["weak"] = True
                out["inputs"] = {k: codec.encode(v) for k, v in c["inputs"].items()}
                if c["kind"] == "values":
                    out.update(expected=codec.encode(c["expected"]), rtol=c["rtol"], atol=c["atol"],
                               hints=[[codec.encode(v), text] for v, text in c["hints"]])
                elif c["kind"] == "shape":
                    out["expected_shape"] = c["expected_shape"]
                else:
                    out.update(test=c["test"], message=c["message"])
                cases.append(out)
            tests[tid] = {"name": t.name, "points": t.points, "prelude": t.prelude, "cases": cases,
                          "hidden_checks": sum(c["hidden"] for c in t.cases)}
        return {"assignment": self.name, "tests": tests}

    def judge(self, results):
        """{test id: Verdict} from the outcomes the student's kernel reported
        ({test id: {case id: outcome with decoded value}})."""
        return {tid: judge_test(plan, results.get(tid, {}))
                for tid, plan in self.judge_plan().items()}


def load(assignment, root):
    """The ``Assignment`` defined in solutions/<assignment>/checks.py of the course at ``root``."""
    path = Path(root) / "solutions" / assignment / CHECKS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{assignment} has no {CHECKS_FILE} (expected at {path})")
    spec = importlib.util.spec_from_file_location(f"_checks_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [v for v in vars(module).values() if isinstance(v, Assignment)]
    if len(found) != 1:
        raise ValueError(f"{path} must define exactly one Assignment, found {len(found)}")
    return found[0]


#: two plans hold the same check when their numbers differ by less than this share of the
#: check's own tolerance (atol, rtol): numpy's exp or sum may differ in the last bit between
#: machines (their vector units) and versions, and an expected value taken by finite differences
#: magnifies that by 1/h (2e-10 for a gradient entry checked to within 1e-8)
SAME_SHARE = 0.05


def same_plan(a, b, tol=(0.0, 1e-12)):
    """Whether two visible plans (as written to visible_checks.json) hold the same checks: the
    same text, shapes and dtypes, and numbers equal to within ``SAME_SHARE`` of each check's
    tolerance (``tol`` = (atol, rtol) outside any check)."""
    if isinstance(a, dict) and "ndarray" in a:
        try:
            x, y = codec.decode(a), codec.decode(b)
        except Exception:
            return False
        return (x.shape == y.shape and x.dtype == y.dtype
                and bool(np.allclose(x, y, atol=tol[0], rtol=tol[1], equal_nan=True)))
    if isinstance(a, dict):
        if isinstance(a.get("atol"), (int, float)) and isinstance(a.get("rtol"), (int, float)):
            tol = (SAME_SHARE * a["atol"], SAME_SHARE * a["rtol"])
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(same_plan(a[k], b[k], tol) for k in a))
    if isinstance(a, list):
        return (isinstance(b, list) and len(a) == len(b)
                and all(same_plan(x, y, tol) for x, y in zip(a, b)))
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return bool(np.isclose(a, b, atol=tol[0], rtol=tol[1], equal_nan=True))
    return type(a) is type(b) and a == b


def write_visible(assignment, root):
    """Write solutions/<assignment>/visible_checks.json (nbgrader copies it to the students).

    A file that holds the same checks (``same_plan``) is left as it is: regenerating on another
    machine, as the first autograde there does, then changes no file the students were given."""
    plan = load(assignment, root).visible_plan()
    path = Path(root) / "solutions" / assignment / VISIBLE_FILE
    text = json.dumps(plan, indent=1, sort_keys=True, allow_nan=False) + "\n"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = None
    if kept is None or not same_plan(json.loads(text), kept):
        path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------
# The library as the sandbox sees it
# ----------------------------------------------------------------------------------------------
_UNAVAILABLE = ("raise NotImplementedError('{name} of the course library is not available while "
                "an exercise is graded: the exercise asks you to write it yourself.')")


class _Gut(ast.NodeTransformer):
    """Replace the body of every function and method by a NotImplementedError."""

    def __init__(self, module):
        self.module, self.stack = module, []

    def _function(self, node):
        self.stack.append(node.name)
        name = ".".join([self.module, *self.stack])
        node.body = ast.parse(_UNAVAILABLE.format(name=name)).body
        node.decorator_list = [d for d in node.decorator_list
                               if isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod", "property")
                               or isinstance(d, ast.Attribute) and d.attr in ("setter", "getter")]
        self.stack.pop()
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()
        return node

    def visit_Lambda(self, node):
        node.body = ast.parse("(_ for _ in ()).throw(NotImplementedError('not available while graded'))",
                              mode="eval").body
        return node


def build_library(source, target, allowed=DEFAULT_LIBRARY):
    """Copy the course library from ``source`` (the repository's lib/) to ``target`` for the
    sandbox: ``selfcheck`` and the ``allowed`` nnlib modules as they are, every other nnlib module
    with its functions' and methods' bodies removed (names, classes and constants stay, so imports
    work), compiled. Returns ``target``."""
    source, target = Path(source), Path(target)
    if target.exists():
        shutil.rmtree(target)
    for package in ("nnlib", "selfcheck"):
        shutil.copytree(source / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "bench.py"))
    for path in sorted((target / "nnlib").rglob("*.py")):
        module = ".".join(path.relative_to(target).with_suffix("").parts)
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")]
        if any(module == a or module.startswith(a + ".") for a in allowed) or module == "nnlib":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tree = ast.fix_missing_locations(_Gut(module).visit(tree))
        path.write_text(f"# {module}: implementations removed while exercises are graded\n"
                        + ast.unparse(tree) + "\n", encoding="utf-8")
    # compiled once here, so that no sandbox compiles the library again (it cannot write there),
    # under the path the sandbox sees it at (no path of the grading machine in the compiled files)
    from coursetools.sandbox import LIB_MOUNT
    compileall.compile_dir(target, ddir=LIB_MOUNT, quiet=1)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    target.chmod(0o755)
    return target
