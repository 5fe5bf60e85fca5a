"""The IMAP section's mailbox: the fast message writer gives the email package's bytes."""
from benchmarks import imap


def test_each_message_is_what_the_email_package_writes():
    for n in [*range(300), 9_999, 10_000, 10_002, 123_456]:
        assert imap._message(n) == imap._composed(n), n


def test_messages_differ_in_their_headers_only():
    first, other = imap._message(1), imap._message(2)
    assert first != other
    assert first.partition(b"\n\n")[2] == other.partition(b"\n\n")[2]
