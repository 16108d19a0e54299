PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: setup test demo
setup:
	bash scripts/setup_env.sh

# Sets the environment up (idempotent, fast when already done), then tests.
test: setup
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

# Trains and tests the toy demo with `mim train/test mmpose_attn`.
demo: setup
	bash scripts/demo.sh
