"""Typed user errors: a full disk names the drive to free space on."""
from __future__ import annotations

import errno

from assistant.core.errors import disk_full


def test_a_full_disk_names_the_file_the_os_could_not_write_before_the_callers_folder():
    full = disk_full(OSError(errno.ENOSPC, "No space left on device", "/media/usb/Maildir"), "/home/ann/workspace")
    assert full is not None
    assert "on the drive of /media/usb/Maildir" in str(full) and "/home/ann/workspace" not in str(full)
    assert "on the drive of /home/ann/workspace" in str(disk_full(OSError(errno.ENOSPC, "No space"),
                                                                 "/home/ann/workspace"))
