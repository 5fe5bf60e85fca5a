"""``emit()``: emit a Qt signal from Python without corrupting the interpreter on PySide6 6.12 + Python 3.11.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a reference to it. On Python < 3.12, where
``True`` is not immortal, every emit from Python lowers its reference count by one until the interpreter aborts with
"bool_dealloc: deallocating True or False" (seen at exit after a few thousand emits). We measure once whether the
running PySide has the fault and, if so, give back the reference it drops. On a fixed PySide this is a plain emit.
"""
from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    fired = Signal()


def _emit_drops_a_reference() -> bool:
    if sys.version_info >= (3, 12):  # True is immortal there: nothing to repair
        return False
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.fired.emit()
    return sys.getrefcount(True) <= before - 16


_REPAIR = _emit_drops_a_reference()
if _REPAIR:  # the probe's 16 emits took 16 references; give them back
    for _ in range(16):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit(signal: SignalInstance, *args: Any) -> None:
    result = signal.emit(*args)
    if _REPAIR and isinstance(result, bool):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
