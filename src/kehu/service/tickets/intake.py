"""E-mail intake: service mail read from an IMAP mailbox or a folder of .eml files becomes
tickets. The sender is matched to a contact (or the customer's own address); a message
whose subject names a ticket of that customer ("Re: [T-00042] …") goes onto that ticket's
conversation, any other opens a new ticket. A message from an address kehu does not know
opens nothing: it is set aside (moved to unmatched/, or marked read and flagged on the
server) for a person to look at, since guessing a customer would file one customer's
words on another's card. A message read twice (the same Message-ID) is not filed twice."""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import imaplib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from kehu.customers.models import Contact, Customer
from kehu.service.tickets.models import Ticket, TicketEntry, TicketKind, parse_number

# Subject prefixes of replies and forwards, in the languages kehu's customers write.
PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|sv|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)
TAG_RE = re.compile(r"<[^>]+>")
COMPLAINT_WORDS = ("投诉", "complaint", "complain")


@dataclass(frozen=True)
class Mail:
    """What intake needs of one message."""

    message_id: str
    sender: str  # the address, lower case
    sender_name: str
    subject: str
    body: str


def parse(raw: bytes) -> Mail:
    msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = email.utils.parseaddr(str(msg.get("From", "")))
    part = msg.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        try:
            body = part.get_content()
        except (LookupError, UnicodeDecodeError):
            body = part.get_payload(decode=True).decode("utf-8", "replace")
        if part.get_content_type() == "text/html":
            body = html.unescape(TAG_RE.sub(" ", body))
    body = re.sub(r"\n{3,}", "\n\n", body.replace("\r\n", "\n")).strip()
    return Mail(message_id=str(msg.get("Message-ID", "")).strip()[:300],
                sender=address.strip().lower()[:254], sender_name=name.strip(),
                subject=" ".join(str(msg.get("Subject", "")).split()), body=body)


def clean_subject(subject: str) -> str:
    return PREFIX_RE.sub("", subject).strip()


def guess_kind(mail: Mail) -> str:
    text = f"{mail.subject} {mail.body[:500]}".lower()
    return TicketKind.COMPLAINT if any(w in text for w in COMPLAINT_WORDS) \
        else TicketKind.ENQUIRY


@dataclass(frozen=True)
class Sender:
    customer: Customer | None
    contact: Contact | None


def match_sender(address: str) -> Sender:
    """The contact, else the customer, whose e-mail address is `address`. An address that
    several customers share names none of them (nobody can tell whose the message is)."""
    if not address:
        return Sender(None, None)
    contacts = list(Contact.objects.filter(email__iexact=address).select_related("customer")
                    [:20])
    if contacts:
        owners = {c.customer_id for c in contacts}
        if len(owners) == 1:
            return Sender(contacts[0].customer, contacts[0])
        return Sender(None, None)
    customers = list(Customer.objects.filter(email__iexact=address)[:2])
    if len(customers) == 1:
        return Sender(customers[0], None)
    return Sender(None, None)


def thread_of(mail: Mail, sender: Sender) -> Ticket | None:
    """The ticket the subject names, when it is the sender's customer's."""
    number = parse_number(mail.subject)
    if number is None or sender.customer is None:
        return None
    return Ticket.objects.filter(pk=number, customer=sender.customer).first()


def seen_before(mail: Mail) -> bool:
    if not mail.message_id:
        return False
    return (Ticket.objects.filter(email_message_id=mail.message_id).exists()
            or TicketEntry.objects.filter(email_message_id=mail.message_id).exists())


# Where the messages come from ---------------------------------------------------------------

class Source:
    """A mailbox: yields (key, raw message) and is told what became of each."""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        raise NotImplementedError

    def filed(self, key: str) -> None:
        """The message is on a ticket (or was already)."""

    def set_aside(self, key: str) -> None:
        """Nobody could be matched: keep it for a person."""

    def failed(self, key: str) -> None:
        """Filing it failed: leave it to be read again on the next run."""


class FolderSource(Source):
    """A folder of .eml files; filed ones move to done/, unmatched ones to unmatched/."""

    def __init__(self, folder: Path, keep: bool = False):
        self.folder, self.keep = Path(folder), keep

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for path in sorted(self.folder.glob("*.eml")):
            yield path.name, path.read_bytes()

    def _move(self, key: str, where: str) -> None:
        if self.keep:
            return
        target = self.folder / where
        target.mkdir(exist_ok=True)
        (self.folder / key).replace(target / key)

    def filed(self, key: str) -> None:
        self._move(key, "done")

    def set_aside(self, key: str) -> None:
        self._move(key, "unmatched")


class ImapSource(Source):
    """The unread messages of an IMAP mailbox; filed ones are marked read, unmatched ones are
    marked read and flagged (so that each run does not read them again, and a person finds
    them by the flag); those that failed are flagged and stay unread, to be tried again."""

    def __init__(self, host: str, user: str, password: str, *, mailbox: str = "INBOX",
                 port: int | None = None, ssl: bool = True):
        cls = imaplib.IMAP4_SSL if ssl else imaplib.IMAP4
        self.imap = cls(host, port) if port else cls(host)
        self.imap.login(user, password)
        status, _data = self.imap.select(mailbox)
        if status != "OK":
            raise OSError(f"no mailbox {mailbox!r}")

    def messages(self) -> Iterator[tuple[str, bytes]]:
        _status, data = self.imap.uid("search", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, parts = self.imap.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw:
                yield uid.decode(), raw

    def filed(self, key: str) -> None:
        self.imap.uid("store", key, "+FLAGS", "(\\Seen)")

    def set_aside(self, key: str) -> None:
        self.imap.uid("store", key, "+FLAGS", "(\\Seen \\Flagged)")

    def failed(self, key: str) -> None:
        self.imap.uid("store", key, "+FLAGS", "(\\Flagged)")

    def close(self) -> None:
        try:
            self.imap.close()
        finally:
            self.imap.logout()
