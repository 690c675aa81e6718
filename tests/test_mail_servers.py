"""Real mail servers for the mail tests, started and stopped by the tests themselves: Dovecot
(Debian's dovecot-imapd, a throwaway configuration in a temporary directory, plain IMAP on a
free port of 127.0.0.1) and aiosmtpd (an SMTP server in a thread that keeps what it receives,
and can be told to refuse the first attempts)."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Imap:
    host: str
    port: int
    user: str
    password: str

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
        except imaplib.IMAP4.error:
            conn.shutdown()
            raise
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str | None = None) -> None:
        conn = self.connect()
        try:
            typ, data = conn.append(folder, flags, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def unseen(self) -> int:
        conn = self.connect()
        try:
            conn.select("INBOX")
            typ, data = conn.uid("SEARCH", "UNSEEN")
            return len(data[0].split()) if data and data[0] else 0
        finally:
            conn.logout()

    def search(self, *criteria: str) -> int:
        conn = self.connect()
        try:
            conn.select("INBOX")
            typ, data = conn.uid("SEARCH", *criteria)
            return len(data[0].split()) if data and data[0] else 0
        finally:
            conn.logout()

    def clear(self) -> None:
        conn = self.connect()
        try:
            conn.select("INBOX")
            conn.store("1:*", "+FLAGS", "(\\Deleted)")
            conn.expunge()
        except imaplib.IMAP4.error:
            pass
        finally:
            conn.logout()


DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
first_valid_uid = 1
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Imap]:
    """A Dovecot IMAP server of our own, with one account, for the module's tests."""
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (scripts/setup.sh installs dovecot-imapd)")
    import grp
    import pwd

    # not under pytest's 0700 directories: Dovecot's own users read the configuration
    d = Path(tempfile.mkdtemp(prefix="madoguchi-dovecot-"))
    os.chmod(d, 0o755)
    if os.geteuid() == 0:
        uid, gid, users = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid, ""
    else:
        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        users = f"default_login_user = {me}\ndefault_internal_user = {me}\n"
    for sub in ("mail", "home"):
        (d / sub).mkdir()
        os.chown(d / sub, uid, gid)
    port = free_port()
    (d / "users").write_text("madoguchi:{PLAIN}imap-secret-1\n")
    (d / "dovecot.conf").write_text(DOVECOT_CONF.format(d=d, uid=uid, gid=gid, port=port, users=users))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(d / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield Imap("127.0.0.1", port, "madoguchi", "imap-secret-1")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(d, ignore_errors=True)


@dataclass
class Smtp:
    host: str
    port: int
    received: list[Any] = field(default_factory=list)
    #: Answer 451 to this many DATA commands before accepting.
    refuse: int = 0
    refused: int = 0


class _Handler:
    def __init__(self, box: Smtp) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.box.refused < self.box.refuse:
            self.box.refused += 1
            return "451 4.3.0 try again later"
        self.box.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[Smtp]:
    """An aiosmtpd server in a thread on a free port; what it accepts is in ``received``."""
    from aiosmtpd.controller import Controller

    box = Smtp("127.0.0.1", free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def test_dovecot_takes_and_gives_back_a_message(dovecot: Imap) -> None:
    dovecot.clear()
    dovecot.append(b"From: a@example.jp\r\nSubject: test\r\nMessage-ID: <t1@example.jp>\r\n\r\nbody\r\n")
    assert dovecot.unseen() == 1
    dovecot.clear()
    assert dovecot.unseen() == 0


def test_aiosmtpd_keeps_what_it_accepts(smtp_server: Smtp) -> None:
    import smtplib

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as s:
        s.sendmail("a@example.jp", ["b@example.jp"], b"Subject: x\r\n\r\nhello\r\n")
    assert [e.rcpt_tos for e in smtp_server.received] == [["b@example.jp"]]
