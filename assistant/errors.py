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
