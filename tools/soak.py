# The SIM800 fault soak over many seeds, in both runtimes, a few runs at a time.
# Licence: MIT (this project). CPython only (subprocesses); `make soak` runs it.
#
#   python3 tools/soak.py [--seeds 1-20] [--jobs 2] [--runtimes cpython,micropython]
#
# Each run is host_tests/test_sim800_soak.py with SOAK_SEEDS=<one seed>, under
# pytest (CPython) or host_tests/mprunner.py (the MicroPython unix port). Runs
# go `jobs` at a time (two load the 2-core machine, as the issue asks). Prints
# one line per run (the soak's own summary: SMS in/answered/lost/duplicated,
# faults, time) and a table; exits 1 if any run failed.

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv", "bin")


def _seeds(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _command(runtime):
    if runtime == "cpython":
        py = os.path.join(VENV, "python")
        return [py, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"] + [
            "host_tests/test_sim800_soak.py"
        ]
    mp = os.path.join(VENV, "micropython")
    return [mp, "-X", "heapsize=8M", "host_tests/mprunner.py", "test_sim800_soak"]


def _start(seed, runtime):
    env = dict(os.environ)
    env["SOAK_SEEDS"] = str(seed)
    env["MICROPYPATH"] = ".frozen:lib:host_tests:."
    p = subprocess.Popen(
        _command(runtime),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return (seed, runtime, p, time.monotonic())


def _summary(out):
    for line in out.splitlines():
        if line.startswith("soak: "):
            return line
    return ""


def _field(summary, key):
    i = summary.find(key + "=")
    if i < 0:
        return "?"
    j = i + len(key) + 1
    k = j
    while k < len(summary) and summary[k] not in " ;(":
        k += 1
    return summary[j:k]


def main(argv):
    seeds = list(range(1, 21))
    jobs = 2
    runtimes = ["cpython", "micropython"]
    i = 0
    while i < len(argv):
        if argv[i] == "--seeds":
            seeds = _seeds(argv[i + 1])
        elif argv[i] == "--jobs":
            jobs = int(argv[i + 1])
        elif argv[i] == "--runtimes":
            runtimes = argv[i + 1].split(",")
        else:
            print(__doc__ or "usage: tools/soak.py [--seeds A-B] [--jobs N] [--runtimes ...]")
            return 2
        i += 2
    todo = [(s, r) for s in seeds for r in runtimes]
    running = []
    results = []
    t0 = time.monotonic()
    while todo or running:
        while todo and len(running) < jobs:
            running.append(_start(*todo.pop(0)))
        time.sleep(0.2)
        for job in list(running):
            seed, runtime, p, ts = job
            if p.poll() is None:
                continue
            running.remove(job)
            out = p.stdout.read()
            ok = p.returncode == 0
            s = _summary(out)
            results.append((seed, runtime, ok, time.monotonic() - ts, s))
            dt = time.monotonic() - ts
            print("%s seed=%d %s %.0fs  %s" % ("PASS" if ok else "FAIL", seed, runtime, dt, s))
            sys.stdout.flush()
            if not ok:
                print(out[-4000:])
    print()
    print("| seed | runtime | result | SMS in | answered | lost | duplicated | wrong | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed, runtime, ok, dt, s in sorted(results):
        print(
            "| %d | %s | %s | %s | %s | %s | %s | %s | %.0f |"
            % (
                seed,
                runtime,
                "pass" if ok else "FAIL",
                _field(s, "in"),
                _field(s, "answered"),
                _field(s, "lost"),
                _field(s, "duplicated"),
                _field(s, "wrong"),
                dt,
            )
        )
    bad = [r for r in results if not r[2]]
    print(
        "%d runs, %d failed, %.0f s wall (%d at a time)"
        % (len(results), len(bad), time.monotonic() - t0, jobs)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
