"""`python -m scripts.lib.guard MODULE [ARGS…]`: run MODULE as `python -m MODULE` would, but have the
kernel end it (SIGTERM) when the process that started it dies, however that one dies.

scripts/develop starts its children through this, so even a SIGKILLed develop leaves nothing
behind. (A `preexec_fn` would do the same from the parent's side, but forking a threaded Python
with one can deadlock.)
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = int(os.environ.get("CAMERA_HUB_PARENT_PID", "0"))
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent and os.getppid() != parent:
        sys.exit("the process that started this one is gone")
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
