# Deploy the firmware to a board with mpremote.
# Licence: MIT (this project). Host tool.
#
#   python3 -m tools.deploy --port PORT [--mode frozen|mpy] [--settings STORE] [--dry-run]
#   make deploy PORT=/dev/ttyACM0 [DEPLOY_MODE=mpy]
#
# --mode frozen (default): the board runs a firmware image with the code frozen in
#   (firmware/manifest.py; build and flash commands in the README). Only boot.py and
#   main.py are copied. Every on-flash copy of a frozen package (firmware, ovms,
#   logging, asyncio, in the flash root or in /lib) is removed first: '' and /lib come
#   before .frozen in sys.path, so a stale copy would silently shadow the frozen code.
# --mode mpy (development, any MicroPython >= 1.23 firmware): every device module
#   compiled with mpy-cross into build/deploy/ and copied to /lib, boot.py and main.py to
#   the root. A .py next to a deployed .mpy is removed (import takes .py first), and so
#   is any module under the deployed packages that is not part of this build (a module
#   deleted or renamed in the repository must not live on in flash).
# --settings STORE: also copy a settings store written by `python3 -m tools.console`
#   (its .a/.b slot files) to the board's configuration path (--cfg-path, default
#   /flash/ovms.cfg, the pyboard's; ESP32: /ovms.cfg).
# --dry-run prints the mpremote commands instead of running them.
#
#   python3 -m tools.deploy --package-json     rewrite package.json (mip), see below
# package.json lets `mpremote mip install github:<owner>/<repo>` put the same modules as
# .py into /lib (mip installs there; copy boot.py and main.py yourself). A test checks
# that the committed file lists exactly today's device modules.

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE = os.path.join(ROOT, "build", "deploy")
PACKAGES = ("firmware", "ovms", "logging", "asyncio")  # what the image freezes
HOST_ONLY = ("firmware/boards/host.py", "firmware/manifest.py")


class DeployError(Exception):
    pass


def device_modules():
    # repository-relative paths of every device module, as the manifest freezes them
    out = []
    for top in ("lib/ovms", "lib/logging", "firmware"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for f in sorted(files):
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(d, f), ROOT).replace(os.sep, "/")
                    if rel not in HOST_ONLY:
                        out.append(rel)
    return out


def _bin(name):
    exe = os.path.join(os.path.dirname(sys.executable), name)
    return exe if os.path.exists(exe) else shutil.which(name) or name


def stage_mpy():
    # compile into build/deploy/lib/... -> list of device paths without extension
    shutil.rmtree(STAGE, ignore_errors=True)
    mods = []
    for rel in device_modules():
        dev = rel[4:] if rel.startswith("lib/") else rel  # lib/ovms/x.py -> ovms/x.py
        dst = os.path.join(STAGE, "lib", dev[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        r = subprocess.run(
            [_bin("mpy-cross"), "-s", rel, "-o", dst, os.path.join(ROOT, rel)],
            capture_output=True,
        )
        if r.returncode:
            raise DeployError("mpy-cross %s: %s" % (rel, r.stderr.decode(errors="replace")))
        mods.append("lib/" + dev[:-3])
    return mods


def cleanup_code(mode, mods=()):
    # MicroPython source run on the board before the copy (relative paths: the flash root)
    return (
        "import os\n"
        "def _isdir(p):\n"
        "    try:\n"
        "        return os.stat(p)[0] & 0x4000\n"
        "    except OSError:\n"
        "        return None\n"
        "def _rm(p):\n"
        "    d = _isdir(p)\n"
        "    if d is None:\n"
        "        return\n"
        "    if d:\n"
        "        for n in os.listdir(p):\n"
        "            _rm(p + '/' + n)\n"
        "        os.rmdir(p)\n"
        "    else:\n"
        "        os.remove(p)\n"
        "    print('removed', p)\n"
        "MODE = %r\n"
        "PKGS = %r\n"
        "KEEP = set(%r)\n"
        "for top in PKGS:\n"
        "    for base in ('', 'lib/'):\n"
        "        if MODE == 'frozen':\n"
        "            _rm(base + top)\n"
        "            _rm(base + top + '.py')\n"
        "            _rm(base + top + '.mpy')\n"
        "        elif base == '':\n"
        "            _rm(top)\n"
        "def _walk(p):\n"
        "    if not _isdir(p):\n"
        "        return\n"
        "    for n in os.listdir(p):\n"
        "        q = p + '/' + n\n"
        "        if _isdir(q):\n"
        "            _walk(q)\n"
        "        elif n.endswith('.py') or n.endswith('.mpy'):\n"
        "            stem = q.rsplit('.', 1)[0]\n"
        "            if n.endswith('.py') or stem not in KEEP:\n"
        "                _rm(q)\n"
        "if MODE == 'mpy':\n"
        "    for top in PKGS:\n"
        "        _walk('lib/' + top)\n"
        "    if _isdir('lib') is None:\n"
        "        os.mkdir('lib')\n"
    ) % (mode, PACKAGES, sorted(mods))


def commands(port, mode, settings=None, cfg_path="/flash/ovms.cfg"):
    # -> list of mpremote argument lists (each one session)
    mods = stage_mpy() if mode == "mpy" else []
    base = [_bin("mpremote"), "connect", port]
    cmds = [base + ["exec", cleanup_code(mode, mods)]]
    copy = base + ["cp", os.path.join(ROOT, "boot.py"), ":boot.py"]
    copy += ["+", "cp", os.path.join(ROOT, "main.py"), ":main.py"]
    if mode == "mpy":
        for top in ("ovms", "logging", "firmware"):  # run from STAGE: lands in /lib/<top>
            copy += ["+", "cp", "-r", "lib/" + top, ":lib/"]
    if settings:
        for slot in (".a", ".b"):
            if os.path.exists(settings + slot):
                copy += ["+", "cp", settings + slot, ":" + cfg_path.lstrip("/") + slot]
    cmds.append(copy)
    return cmds


VERSION = "0.3.0"


def package_json():
    urls = []
    for rel in device_modules():
        dest = rel[4:] if rel.startswith("lib/") else rel
        urls.append([dest, rel])
    return {"urls": urls, "version": VERSION}


def write_package_json():
    import json

    with open(os.path.join(ROOT, "package.json"), "w") as f:
        json.dump(package_json(), f, indent=1)
        f.write("\n")


def main(argv):
    if argv == ["--package-json"]:
        write_package_json()
        return 0
    port = None
    mode = "frozen"
    settings = None
    cfg_path = "/flash/ovms.cfg"
    dry = False
    i = 0
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--dry-run":
                dry = True
                i += 1
                continue
            if i + 1 >= len(argv):
                raise DeployError("%s needs a value" % a)
            v = argv[i + 1]
            if a == "--port":
                port = v
            elif a == "--mode":
                if v not in ("frozen", "mpy"):
                    raise DeployError("--mode must be frozen or mpy")
                mode = v
            elif a == "--settings":
                settings = v
            elif a == "--cfg-path":
                cfg_path = v
            else:
                raise DeployError("unknown option %s" % a)
            i += 2
        if not port:
            raise DeployError("--port PORT is required (e.g. /dev/ttyACM0)")
        for cmd in commands(port, mode, settings, cfg_path):
            if dry:
                print(" ".join(cmd))
                continue
            r = subprocess.run(cmd, cwd=STAGE if mode == "mpy" else ROOT)
            if r.returncode:
                raise DeployError("mpremote failed (exit %d)" % r.returncode)
    except DeployError as e:
        sys.stderr.write("deploy: %s\n" % e)
        return 2
    if not dry:
        print("deploy: %s mode done on %s" % (mode, port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
