# python3 -m tools.sim800emu: the emulator on loopback (see tools/sim800emu/__init__.py).
# Licence: MIT (this project).
import asyncio

from tools.sim800emu import main

try:
    asyncio.run(main())
except KeyboardInterrupt:
    pass
