PYTHON ?= python3
# Two workers: the tests pin torch to one thread each (tests/conftest.py).
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: setup test demo demo-resnet18
setup:
	bash scripts/setup_env.sh

# Sets the environment up (idempotent, fast when already done), then tests.
test: setup
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

# Trains and tests SPCNet's CPU tier and its stacked-hourglass baseline side
# by side on the toy data with `mim train/test mmpose_attn`.
demo: setup
	bash scripts/demo.sh

# The same with a stock ResNet-18 SimpleBaseline (the first toy demo).
demo-resnet18: setup
	CONFIGS=configs/toy/td-hm_res18-c32_1xb32-2e_toy-mpii-128x128.py \
	WORK_DIR=work_dirs/toy_demo bash scripts/demo.sh
