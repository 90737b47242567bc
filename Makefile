# The course's two commands are `make lab` and `make test`; the rest are instructor steps.
# Every target sets up the environment first, and only when something changed.

# Python 3.11 or newer (numpy 2.4, matplotlib 3.11, IPython 9 and nbgrader 0.9.6 need it): python3
# when it is new enough, else the newest python3.1x on PATH. Override with make PYTHON=/path/to/python.
PYTHON ?= $(firstword $(foreach p,python3 python3.14 python3.13 python3.12 python3.11,$(if $(shell $(p) -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null | grep 1),$(p))) python3)
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls `alembic` and `jupyter` by name: the environment's bin/ must come first on PATH.
RUN    := PATH="$(BIN):$$PATH"
# Tests run on both cores; set JOBS=1 to run them one by one.
JOBS   ?= 2

.PHONY: lab test test-fast setup generate bench clean release collect autograde feedback grades demo \
        my-exercises student-edition bench-grading html lecture-answers

# Serves the whole repository (the map links to exercises/) and both prints and opens the course
# map's URL. (JupyterLab's LabApp.default_url, not ServerApp's: JupyterLab sets the server's to its
# own, /lab, at start-up; a file argument would change only the URL opened, not the one printed.)
# (JupyterLab refuses to run as root unless told; containers often run as root.)
lab: $(STAMP)
	PATH="$(BIN):$$PATH" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lectures/00_course_map.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(RUN) $(BIN)/python -m pytest -n $(JOBS) --durations=15

# The library's unit tests and the worked examples only: no notebook, grading, browser or build.
test-fast: $(STAMP)
	$(RUN) $(BIN)/python -m pytest -n $(JOBS) tests -m "not notebooks and not grading and not browser and not slow"

setup: $(STAMP)

# (Re)install only when the pins or the library's packaging change.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (numpy 2.4, matplotlib 3.11, IPython 9 and nbgrader 0.9.6 require it), found " + sys.version.split()[0] + ": install one, or run make PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# A copy of the exercises to work in (ignored by git), so that `git pull` never conflicts with
# your answers.
my-exercises:
	@mkdir -p my-exercises
	@for d in exercises/*/; do n=$$(basename $$d); [ -e my-exercises/$$n ] || cp -r $$d my-exercises/$$n; done
	@echo "your copies are in my-exercises/"

clean:
	rm -rf $(VENV) submitted autograded feedback reports exchange gradebook.db grades-*.csv

# ---- instructor steps (see the README); A=assignment, e.g. make autograde A=ex01_neurons ----
A ?= ex01_neurons
GRADE := $(RUN) $(BIN)/python -m coursetools.grading

generate: $(STAMP)
	$(RUN) $(BIN)/python -c 'from coursetools import course; [print(a) or course.generate(a) for a in course.assignments()]'

# One BLAS/OpenMP thread, set before numpy loads (bench_library.py sets it too, and PyTorch's threads): a
# step is timed as its own work, not as threads competing for the cores of a shared machine.
bench: $(STAMP)
	$(RUN) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1 $(BIN)/python -m coursetools.bench_library

release: $(STAMP)
	$(RUN) $(BIN)/nbgrader release_assignment $(A) --force

# collect from nbgrader's exchange, or from a folder: make collect A=ex01_neurons FROM=path/to/folder
collect: $(STAMP)
	$(if $(FROM),$(GRADE) import $(A) $(FROM),$(RUN) $(BIN)/nbgrader collect $(A))

# WORKERS=N grades N students at once (default: the number of cores); CLUSTER=local or a Dask
# scheduler's address runs the grading tasks on Dask; NO_SANDBOX=1 grades without the sandbox
# (unsafe: only for trying the cycle on work you trust, never for graded work).
autograde: $(STAMP)
	$(GRADE) autograde $(A) $(if $(WORKERS),--workers $(WORKERS)) $(if $(CLUSTER),--cluster $(CLUSTER)) $(if $(NO_SANDBOX),--no-sandbox)

feedback: $(STAMP)
	$(GRADE) feedback $(A)

grades: $(STAMP)
	$(GRADE) grades $(A)

# Grade a synthetic class serially and with N workers, side by side: make bench-grading N=100
N ?= 100
bench-grading: $(STAMP)
	$(RUN) $(BIN)/python -m coursetools.bench_grading $(N) $(if $(WORKERS),--workers $(WORKERS))

# The repository students get (no solutions, checks or instructor tools): make student-edition DEST=folder
DEST ?= ../$(notdir $(CURDIR))-student
student-edition: $(STAMP)
	$(RUN) $(BIN)/python -m coursetools.edition $(DEST)

# Every lecture as an HTML page that needs no network (MathJax copied beside the pages), from the
# stored outputs: make html [DEST=folder]. (DEST's default above is the student edition's, so the
# pages go to build/html unless DEST is given.)
html: $(STAMP)
	$(RUN) $(BIN)/python -m coursetools.html --dest "$(if $(filter file,$(origin DEST)),build/html,$(DEST))"

demo: $(STAMP)
	$(RUN) $(BIN)/python -m coursetools.demo

# Every lecture with its exercises answered from solutions/lectures/, executed, in build/lecture-answers/;
# fails if a self-check does not say right.
lecture-answers: $(STAMP)
	$(RUN) $(BIN)/python -m coursetools.lecture_answers lectures/[0-9][1-9]_*.ipynb lectures/[1-9]0_*.ipynb
