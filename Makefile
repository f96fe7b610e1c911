# The course's commands. Quick start: `make lab` (set up, then JupyterLab), `make test`.
#
# Set-up creates .venv with the pins of pyproject.toml and installs lessonkit into it
# in editable mode. It is keyed on a hash of pyproject.toml (stored in $(STAMP)), so a
# second run with nothing changed takes seconds instead of a reinstall.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lessonkit-setup
# Re-execute these in place with `make notebooks` (or NOTEBOOKS=notebooks/02-tracing.ipynb).
NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
# JupyterLab refuses to run as root unless told to (containers, CI).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: help setup lab test notebooks doctor cpp cpp-cpu-wheel images bench clean

help:
	@echo "make lab        set up .venv if needed, then start JupyterLab on notebooks/"
	@echo "make test       set up .venv if needed, then run every test (pytest + nbval)"
	@echo "make notebooks  re-execute notebooks in place (NOTEBOOKS=... for some of them)"
	@echo "make doctor     check Python, PyTorch, compiler, CMake and LibTorch"
	@echo "make cpp        build cpp_demo (run_model, hello) against the installed PyTorch"
	@echo "make cpp-cpu-wheel  prove cpp_demo builds against a CPU-only torch, in a venv of its own"
	@echo "make images     redraw the pictures in images/"
	@echo "make bench      print how long graph drawing and each lesson take"
	@echo "make clean      remove .venv, build folders and lesson artifacts"

# Which interpreter the set-up uses: the venv's once it exists, $(PYTHON) before.
SETUP_PY = $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))

setup:
	@command -v $(firstword $(SETUP_PY)) >/dev/null 2>&1 || { echo "error: '$(SETUP_PY)' not found. Install Python 3.10 to 3.13 and run: make PYTHON=python3.11 $(MAKECMDGOALS)"; exit 1; }
	@$(SETUP_PY) -c "import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 13) else 'error: $(SETUP_PY) is Python %d.%d; this course needs Python 3.10 to 3.13 (TorchScript does not support 3.14+). Install one, then run: rm -rf $(VENV) && make PYTHON=python3.11 $(or $(MAKECMDGOALS),setup)' % v)"
	@want=$$($(SETUP_PY) -c "import hashlib; print(hashlib.sha256(open('pyproject.toml', 'rb').read()).hexdigest())"); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then \
	  echo "set-up: $(VENV) is up to date"; \
	else \
	  echo "set-up: installing the pinned environment into $(VENV) (first time: about 3 minutes, 5.7 GB)"; \
	  { [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); } && \
	  $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e ".[lab,test]" && \
	  echo "$$want" > $(STAMP) && echo "set-up: done"; \
	fi

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest

notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.record_timing=False $(NOTEBOOKS)

doctor: setup
	$(BIN)/python -m lessonkit doctor

cpp: setup
	$(BIN)/python -m lessonkit build-cpp

# The C++ build with a CPU-only torch (find_package(Torch), no CUDA anywhere), in .venv-cpu.
# Here torch==2.13.0 is a +cpu wheel; elsewhere add CPU_INDEX="--index-url https://download.pytorch.org/whl/cpu".
CPU_VENV  ?= .venv-cpu
CPU_TORCH ?= torch==2.13.0
CPU_INDEX ?=
cpp-cpu-wheel:
	@[ -x $(CPU_VENV)/bin/python ] || $(PYTHON) -m venv $(CPU_VENV)
	$(CPU_VENV)/bin/python -m pip install --quiet $(CPU_TORCH) numpy $(CPU_INDEX)
	$(CPU_VENV)/bin/python -m pip install --quiet --no-deps -e .
	@$(CPU_VENV)/bin/python -c "import sys, torch; sys.exit(0 if torch.version.cuda is None else 'torch ' + torch.__version__ + ' is a CUDA build: add CPU_INDEX=\"--index-url https://download.pytorch.org/whl/cpu\"')"
	$(CPU_VENV)/bin/python -m lessonkit build-cpp --check

images: setup
	$(BIN)/python images/make_images.py

bench: setup
	$(BIN)/python -m lessonkit.bench all

clean:
	rm -rf $(VENV) $(CPU_VENV) notebooks/artifacts cpp_demo/build .pytest_cache
