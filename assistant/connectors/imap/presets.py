"""The providers an assistant meets most, with their servers and where the principal makes an app password.

``other`` has no servers: the user gives the IMAP host (and SMTP host, security) themselves.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from assistant.core.errors import UsageError

SECURITIES = ("ssl", "starttls", "plain")
DEFAULT_PORTS = {("imap", "ssl"): 993, ("imap", "starttls"): 143, ("imap", "plain"): 143,
                 ("smtp", "ssl"): 465, ("smtp", "starttls"): 587, ("smtp", "plain"): 587}


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "ssl"
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: str = "ssl"
    caldav_url: str = ""
    app_password_url: str = ""
    app_password_help: str = ""
    sent_by_server: bool = False  # the provider files what its SMTP server sent in Sent itself (Gmail)
    # The API connector ("gmail", "outlook") whose sign-in the IMAP account can log in with (XOAUTH2), and whether
    # that is the only way in (Microsoft turned passwords off for IMAP and SMTP).
    oauth_provider: str = ""
    oauth_only: bool = False


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("gmail", "Gmail", "imap.gmail.com", 993, "ssl", "smtp.gmail.com", 465, "ssl",
           "https://apidata.googleusercontent.com/caldav/v2/", "https://myaccount.google.com/apppasswords",
           "Turn on 2-Step Verification, then Google Account → Security → App passwords.", sent_by_server=True,
           oauth_provider="gmail"),
    Preset("outlook", "Outlook / Microsoft 365", "outlook.office365.com", 993, "ssl", "smtp.office365.com", 587,
           "starttls", sent_by_server=True, oauth_provider="outlook", oauth_only=True,
           app_password_help="Microsoft accepts only its own sign-in here: add the Outlook account first, then use it."),
    Preset("icloud", "iCloud Mail", "imap.mail.me.com", 993, "ssl", "smtp.mail.me.com", 587, "starttls",
           "https://caldav.icloud.com/", "https://account.apple.com",
           "Apple Account → Sign-In and Security → App-Specific Passwords."),
    Preset("fastmail", "Fastmail", "imap.fastmail.com", 993, "ssl", "smtp.fastmail.com", 465, "ssl",
           "https://caldav.fastmail.com/dav/", "https://app.fastmail.com/settings/security/apps",
           "Settings → Privacy & Security → Manage app passwords and access."),
    Preset("yahoo", "Yahoo Mail", "imap.mail.yahoo.com", 993, "ssl", "smtp.mail.yahoo.com", 465, "ssl",
           "https://caldav.calendar.yahoo.com/", "https://login.yahoo.com/account/security",
           "Account Info → Account Security → Generate app password."),
    Preset("zoho", "Zoho Mail", "imap.zoho.com", 993, "ssl", "smtp.zoho.com", 465, "ssl",
           "https://calendar.zoho.com/caldav/", "https://accounts.zoho.com/home#security/app_password",
           "Zoho Accounts → Security → App Passwords (with two-factor sign-in on; IMAP access enabled in Mail)."),
    Preset("other", "Other (IMAP/SMTP)"),
)}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise UsageError(f"no preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def host_port(text: str, service: str, security: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port), the port defaulting by service and security."""
    text = text.strip()
    if not text:
        raise UsageError(f"the {service.upper()} host is empty")
    host, port = text, 0
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    return host, port or DEFAULT_PORTS[(service, security)]


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"{whole!r}: the port must be a number from 1 to 65535")
    return int(text)


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine (``plain`` — no TLS — is allowed only there)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_security(security: str, host: str, service: str) -> None:
    if security not in SECURITIES:
        raise UsageError(f"security must be one of {', '.join(SECURITIES)}, not {security!r}")
    if security == "plain" and not is_loopback(host):
        raise UsageError(f"'plain' (no encryption) is allowed only to this machine, not to {service.upper()} host {host}:"
                         " a password must not cross a network in clear")
