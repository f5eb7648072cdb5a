# The frozen image of `make unix32` (the 32-bit unix port that `make heap-report` runs):
# the firmware's own manifest plus the measuring harness, frozen as the top-level module
# `heap_device` so that its code, like the firmware's, costs no heap (on a board nothing
# of it exists) and no `tools` package shadows the host tools in that binary.
# Licence: MIT (this project).

include("../firmware/manifest.py")  # noqa: F821 (manifest API)
module("heap_device.py", base_path=".")  # noqa: F821
module("heap_census.py", base_path=".")  # noqa: F821
module("heap_can.py", base_path=".")  # noqa: F821
