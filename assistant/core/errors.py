"""Errors a user can act on, typed apart from bugs.

Anything that derives from :class:`UserError` is shown as its one-line message (CLI: on stderr with exit 1; app: in the
status bar or a dialog). Anything else is a bug and gets a traceback in the log.
"""


class UserError(Exception):
    """Something the user can fix; ``str(err)`` is one clear sentence."""


class UsageError(UserError):
    """The command line was wrong (exit 2)."""


class NotFound(UserError):
    pass


class InvalidInput(UserError):
    """A file, a value or a server answer we cannot read."""


class UnknownTimeZone(InvalidInput):
    pass


class WorkspaceTooNew(UserError):
    pass


class CredentialStoreUnavailable(UserError):
    pass


class WorkspaceLocked(UserError):
    """An encrypted workspace whose key this computer's credential store does not give."""


class NeedsSignIn(UserError):
    pass


class SourceLooksEmpty(UserError):
    """A sync source that had items now shows none: we stop instead of wiping the local copy (vdirsyncer's StorageEmpty)."""


class TransientError(Exception):
    """A remote failure worth retrying later (network down, 429, 5xx). ``retry_after`` is in seconds when the server said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(UserError):
    """A remote failure retrying will not fix (400, 403 other than rate limits); kept on the outbox entry and shown."""


class DiskFull(UserError):
    """The disk (or the user's quota) is full: nothing of the step that failed was kept, nothing before it was lost."""


def disk_full(exc: BaseException, where: object = None) -> DiskFull | None:
    """``exc`` as a :class:`DiskFull` when it says the disk is full (SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from a file
    write), else None. ``where`` names the folder to free space on, unless the OS error names the file it could not
    write (``OSError.filename``): that file is on the drive that is full, whoever catches the error."""
    import errno
    import sqlite3

    from sqlcipher3 import dbapi2  # the workspace's driver (store/db.py): its errors are its own classes

    if isinstance(exc, DiskFull):
        return None
    operational = (sqlite3.OperationalError, dbapi2.OperationalError)
    full = (isinstance(exc, operational) and "full" in str(exc).lower()) or (
        isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT))
    if not full:
        return None
    if isinstance(exc, OSError) and exc.filename:
        where = exc.filename
    place = f" on the drive of {where}" if where else ""
    return DiskFull(f"the disk is full: free some space{place} and try again (what was saved before is kept)")
