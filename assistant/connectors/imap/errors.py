"""What goes wrong with an IMAP or SMTP server, as one sentence a user can act on.

Every failure the connector meets passes through :func:`imap_failure` or :func:`smtp_failure`, which sort it into the
engine's kinds: :class:`NeedsSignIn` (wrong password, app password needed), :class:`TransientError` (unreachable,
dropped connection: tried again later), :class:`PermanentError` (over quota, a folder gone, a refused message) and
:class:`CertificateNotTrusted` (a certificate the system does not trust; the message carries its fingerprint, which the
user can choose to trust with ``--trust-fingerprint``).
"""
from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import ssl

from assistant.core.errors import NeedsSignIn, PermanentError, TransientError, UserError

# What providers say when the account's own password is refused because an app password is required.
_APP_PASSWORD_HINTS = ("application-specific password", "app password", "apppassword", "web login required",
                       "webloginrequired", "534-5.7.9", "5.7.9", "use an app-specific")
_QUOTA_HINTS = ("overquota", "over quota", "quota exceeded", "quota_exceeded", "mailbox full", "exceeded storage")


class CertificateNotTrusted(UserError):
    def __init__(self, host: str, port: int, fingerprint: str, reason: str = ""):
        self.fingerprint = fingerprint
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"the certificate of {host}:{port} is not trusted{why}; its SHA-256 fingerprint is {fingerprint}"
            " — if that is your server's, add the account again with --trust-fingerprint " + fingerprint)


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as the colon-separated hex that browsers and ``openssl x509 -fingerprint`` show."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normal_fingerprint(text: str) -> str:
    digits = re.sub(r"[^0-9A-Fa-f]", "", text.removeprefix("sha256:").removeprefix("SHA256:")).upper()
    if len(digits) != 64:
        raise UserError(f"{text!r} is not a SHA-256 fingerprint (64 hexadecimal digits, colons allowed)")
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2))


def _one_line(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else str(exc)
    if isinstance(exc, bytes):
        text = exc.decode("utf-8", "replace")
    return " ".join(text.split())[:300] or (type(exc).__name__ if not isinstance(exc, str) else "")


def _decoded(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def login_failure(text: str, user: str, host: str, app_password_url: str = "") -> NeedsSignIn:
    lowered = text.lower()
    if any(h in lowered for h in _APP_PASSWORD_HINTS):
        where = f": make one at {app_password_url}" if app_password_url else ""
        return NeedsSignIn(f"{host} wants an app password for {user}, not the account's own password{where}")
    return NeedsSignIn(f"{host} refused the password for {user} (wrong password?): {_one_line(text)}")


def is_quota(text: str) -> bool:
    lowered = text.lower()
    return any(h in lowered for h in _QUOTA_HINTS)


def network_failure(exc: OSError, host: str, port: int) -> TransientError:
    if isinstance(exc, socket.gaierror):
        return TransientError(f"cannot find the server {host} (is the name right, is the network up?)")
    if isinstance(exc, ConnectionRefusedError):
        return TransientError(f"{host}:{port} refused the connection (server down, or wrong port?)")
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientError(f"{host}:{port} did not answer in time")
    if isinstance(exc, ssl.SSLError):
        return TransientError(f"the secure connection to {host}:{port} failed: {_one_line(exc)}")
    return TransientError(f"the connection to {host}:{port} failed: {_one_line(exc)}")


def smtp_failure(exc: Exception, user: str, host: str, port: int, app_password_url: str = "") -> Exception:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return login_failure(f"{exc.smtp_code} {_decoded(exc.smtp_error)}", user, host, app_password_url)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{who}: {code} {_one_line(_decoded(why))}" for who, (code, why) in exc.recipients.items())
        if any(code >= 500 for code, _ in exc.recipients.values()):
            return PermanentError(f"{host} refused the recipients: {refused}")
        return TransientError(f"{host} deferred the recipients: {refused}")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_one_line(_decoded(exc.smtp_error))}"
        if is_quota(text) or exc.smtp_code == 552:
            return PermanentError(f"{host} refused the message: over quota ({text})")
        if exc.smtp_code >= 500:
            return PermanentError(f"{host} refused the message: {text}")
        return TransientError(f"{host} could not take the message now: {text}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientError(f"{host}:{port} closed the connection: {_one_line(exc)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(f"{host}:{port} does not offer this: {_one_line(exc)}")
    if isinstance(exc, smtplib.SMTPException):
        return PermanentError(f"{host}: {_one_line(exc)}")
    if isinstance(exc, OSError):
        return network_failure(exc, host, port)
    return exc
