"""Real mail servers on 127.0.0.1 for the IMAP connector's tests: Dovecot (IMAP with CONDSTORE/QRESYNC/IDLE/MOVE,
LMTP delivery, SASL for the MTA) and Postfix (submission with STARTTLS, delivering into Dovecot over LMTP).

Each server runs from a temporary folder with a configuration of its own on free ports, and is stopped after. They are
installed by ``./dev`` (SYSTEM_PACKAGES); a machine without them fails these tests with the command that installs them.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DOMAIN = "example.com"
USERS = {"principal@example.com": "correct horse battery", "zoe@example.com": "zoe's password"}
MISSING = "{what} is not installed: run ./dev setup (or apt-get install dovecot-imapd dovecot-lmtpd postfix)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s\n{text}")


def _binary(name: str, *candidates: str) -> str:
    for c in (shutil.which(name), *candidates):
        if c and os.path.exists(c):
            return c
    raise RuntimeError(MISSING.format(what=name))


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with the cryptography package."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Dovecot:
    root: Path
    imap_port: int = 0
    imaps_port: int = 0
    lmtp_port: int = 0
    auth_port: int = 0
    capabilities: str = ""  # "" for Dovecot's own; else the exact CAPABILITY list to offer (e.g. without CONDSTORE)
    # An OAuth 2.0 token introspection endpoint (RFC 7662, POST): when set, Dovecot also takes SASL XOAUTH2 and
    # OAUTHBEARER, asking this URL whether the bearer token is active and whose it is (its passdb ``oauth2``).
    oauth_introspection_url: str = ""
    cert: Path = field(default=Path())
    key: Path = field(default=Path())
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def write_config(self) -> None:
        r = self.root
        am_root = os.geteuid() == 0
        me = "nobody" if am_root else os.environ.get("USER") or str(os.geteuid())
        group = "nogroup" if am_root else str(os.getegid())
        (r / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in USERS.items()))
        userdb = (f"uid={me} gid={group} home={r}/home/%u" if am_root
                  else f"uid={os.geteuid()} gid={os.getegid()} home={r}/home/%u")
        users = "" if am_root else f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        if am_root:
            users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
        caps = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        mechanisms, password_mechanisms, oauth_passdb = "plain login", "", ""
        if self.oauth_introspection_url:
            mechanisms += " xoauth2 oauthbearer"
            password_mechanisms = "  mechanisms = plain login\n"
            # a passdb kept to some mechanisms skips the lookups delivery makes: the userdb then takes any user
            userdb += " allow_all_users=yes"
            (r / "oauth2.conf.ext").write_text(
                f"introspection_mode = post\nintrospection_url = {self.oauth_introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
                "timeout_msecs = 10000\n")
            oauth_passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {r}/oauth2.conf.ext\n}}\n"
        mailboxes = "".join(
            f"  mailbox {name} {{\n    special_use = \\{use}\n    auto = subscribe\n  }}\n"
            for name, use in (("Sent", "Sent"), ("Drafts", "Drafts"), ("Trash", "Trash"), ("Archive", "Archive"),
                              ("Junk", "Junk")))
        self.config.write_text(f"""\
base_dir = {r}/run
state_dir = {r}/state
log_path = {self.log}
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
{users}first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
{caps}passdb {{
  driver = passwd-file
{password_mechanisms}  args = scheme=PLAIN username_format=%u {r}/passwd
}}
{oauth_passdb}userdb {{
  driver = static
  args = {userdb}
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service auth {{
  inet_listener auth {{
    address = 127.0.0.1
    port = {self.auth_port}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
protocol lmtp {{
  postmaster_address = postmaster@{DOMAIN}
}}
""")

    def start(self) -> None:
        binary = _binary("dovecot", "/usr/sbin/dovecot")
        if not self.imap_port:
            self.imap_port, self.imaps_port, self.lmtp_port, self.auth_port = (free_port() for _ in range(4))
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root / "home", "nobody", "nogroup")
        self.write_config()
        self.process = subprocess.Popen([binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        for port in (self.imap_port, self.imaps_port, self.lmtp_port, self.auth_port):
            wait_for_port(port, log=self.log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kick(self, user: str) -> None:
        """End the user's IMAP sessions as an administrator does (``doveadm kick``: BYE, then the connection closes)."""
        subprocess.run([_binary("doveadm", "/usr/bin/doveadm"), "-c", str(self.config), "kick", user],
                       capture_output=True, check=True, timeout=30)

    def kill_imap_processes(self) -> None:
        """End every imap process serving a client (the connections drop as in a server crash)."""
        if self.process is None:
            return
        out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines()[1:]:
            pid, ppid, comm = line.split(None, 2)
            if comm.strip() == "imap" and int(ppid) == self.process.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)

    def deliver(self, recipient: str, raw: bytes) -> None:
        """Deliver through LMTP, as an MTA does."""
        import smtplib

        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail("sender@example.org", [recipient], raw)


@dataclass
class Postfix:
    root: Path
    dovecot: Dovecot
    submission_port: int = 0
    smtp_port: int = 0

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    def start(self) -> None:
        binary = _binary("postfix", "/usr/sbin/postfix")
        if os.geteuid() != 0:
            raise RuntimeError("the Postfix fixture runs as root (as CI does)")
        self.submission_port, self.smtp_port = free_port(), free_port()
        etc, queue, data = self.config_dir, self.root / "spool", self.root / "lib"
        for d in (etc, queue, data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postfix")
        d = self.dovecot
        (etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = {self.root}/postfix.log
maillog_file_prefixes = {self.root}
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{d.lmtp_port}
relayhost = [127.0.0.1]:9
smtpd_tls_cert_file = {d.cert}
smtpd_tls_key_file = {d.key}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{d.auth_port}
smtpd_sasl_auth_enable = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access inline:{{ refused@{DOMAIN}=REJECT }},
  permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
disable_dns_lookups = yes
alias_maps =
alias_database =
""")
        (etc / "master.cf").write_text(f"""\
127.0.0.1:{self.smtp_port} inet n - n - - smtpd
127.0.0.1:{self.submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
""")
        env = {**os.environ, "MAIL_CONFIG": str(etc)}
        subprocess.run([binary, "-c", str(etc), "check"], env=env, capture_output=True, check=False)
        result = subprocess.run([binary, "-c", str(etc), "start"], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"postfix did not start: {result.stderr or result.stdout}")
        wait_for_port(self.submission_port, log=self.root / "postfix.log")

    def stop(self) -> None:
        env = {**os.environ, "MAIL_CONFIG": str(self.config_dir)}
        subprocess.run(["postfix", "-c", str(self.config_dir), "stop"], env=env, capture_output=True, check=False)

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class MailServers:
    dovecot: Dovecot
    postfix: Postfix

    def client_context(self) -> ssl.SSLContext:
        """A context that trusts the servers' own certificate (what a user does by trusting its fingerprint)."""
        return ssl.create_default_context(cafile=str(self.dovecot.cert))


@contextlib.contextmanager
def mail_servers(capabilities: str = "", oauth_introspection_url: str = "") -> Iterator[MailServers]:
    root = Path(tempfile.mkdtemp(prefix="assistant-mail-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot", capabilities=capabilities, oauth_introspection_url=oauth_introspection_url)
    dovecot.root.mkdir()
    dovecot.cert, dovecot.key = make_certificate(root)
    if os.geteuid() == 0:
        shutil.chown(dovecot.key, "root")
    postfix = Postfix(root / "postfix", dovecot)
    try:
        dovecot.start()
        postfix.start()
        yield MailServers(dovecot, postfix)
    finally:
        postfix.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
