# The two commands a new user needs, plus the instructor's demo.
#   make lab    set up .venv on first use and open the course in JupyterLab
#   make test   set up .venv on first use and run the whole test suite
#   make demo   build the release and autograde sample submissions into a SQLite gradebook

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test demo build check selfcheck bench lint clean

# torch first, the build chosen by scripts/install-torch.sh: the CPU build on a Linux machine
# without an NVIDIA GPU (PyPI's default bundles about 6 GB of CUDA libraries), PyPI's default
# where `nvidia-smi` answers; PIP_CONSTRAINT naming torch (CI) or TORCH_INDEX_URL override it.
$(STAMP): pyproject.toml scripts/install-torch.sh
	$(PYTHON) -m venv $(VENV)
	bash scripts/install-torch.sh $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

# Students work on copies in work/ (git-ignored), so `git pull` can update notebooks/
# without touching their answers; a notebook already in work/ is never overwritten.
lab: $(STAMP)
	mkdir -p work
	cp -n notebooks/*.ipynb work/ 2>/dev/null || true
	$(BIN)/jupyter lab work/

# System packages first (bubblewrap, chromium, Fashion-MNIST): installed where root and apt
# allow it, otherwise one message naming each missing part. CI runs exactly this.
# Two test processes (pytest-xdist): much of the suite waits on kernels, servers and the
# browser, and on two cores two lanes ran the quick tests 2.2x sooner. The longest tests start
# first (tests/conftest.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	bash scripts/system-deps.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

demo: $(STAMP)
	$(BIN)/autograde demo

build: $(STAMP)
	$(BIN)/autograde build

check: $(STAMP)
	$(BIN)/autograde build --check

selfcheck: $(STAMP)
	$(BIN)/autograde selfcheck

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/notebook_01b_knn.py
	$(BIN)/python benchmarks/notebook_02_losses.py
	$(BIN)/python benchmarks/notebook_03_backprop.py
	$(BIN)/python benchmarks/notebook_03b_modular_nets.py
	$(BIN)/python benchmarks/notebook_04_optimization.py
	$(BIN)/python benchmarks/notebook_04b_normalization.py
	$(BIN)/python benchmarks/notebook_04c_conv_layers.py
	$(BIN)/python benchmarks/notebook_05_cnns.py
	$(BIN)/python benchmarks/notebook_06_rnns.py
	$(BIN)/python benchmarks/notebook_07_reinforce.py
	$(BIN)/python benchmarks/named_mistakes.py
	$(BIN)/python benchmarks/regrade_under_load.py

lint: $(STAMP)
	$(BIN)/ruff check course_utils autograde tests benchmarks solutions

clean:
	rm -rf build .pytest_cache
