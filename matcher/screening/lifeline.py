"""Helper processes of a parallel screening die with the process that started them, whatever kills it.

A SIGKILL gives the screening process no chance to stop its workers; left
alone, the forkserver, the workers and the resource tracker would live on as
orphans, holding the caller's stdout and stderr open (so a caller reading them
would hang). So on Linux every helper asks the kernel for a SIGKILL when its
parent dies (``prctl(PR_SET_PDEATHSIG)``): the forkserver when the screening
process dies (:mod:`matcher.screening.forkserver_preload`), each worker when
the forkserver dies (:func:`matcher.screening.screen.init_worker`); the
resource tracker ends by itself once they are all gone. The helpers are also
started with stdout and stderr on ``/dev/null`` (:func:`start_helpers`), so
none holds the caller's streams.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from multiprocessing.context import BaseContext

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask for SIGKILL when this process's parent dies (Linux; elsewhere nothing), and exit now if it already
    has."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def start_helpers(context: BaseContext) -> None:
    """Start the resource tracker and the forkserver of ``context`` now, from this (the main) thread, with the
    forkserver watching this process and neither holding this process's stdout or stderr."""
    from multiprocessing import forkserver, resource_tracker

    context.set_forkserver_preload(["matcher.screening.forkserver_preload"])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        resource_tracker.ensure_running()
        forkserver.ensure_running()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in (*saved, null):
            os.close(descriptor)
