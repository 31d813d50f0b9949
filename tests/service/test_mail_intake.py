"""`kehu service fetch-mail`: e-mail from a folder of .eml files (or an IMAP mailbox)
becomes tickets; replies thread onto the ticket their subject names; a message read twice is
filed once; an unknown sender opens nothing and is set aside."""

from __future__ import annotations

from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kehu.customers.services import create_contact
from kehu.service.tickets import intake
from kehu.service.tickets.models import EntryKind, Ticket, TicketChannel, TicketStatus
from kehu.service.tickets.services import add_entry

pytestmark = pytest.mark.django_db


def _eml(sender: str, subject: str, body: str, message_id: str, html: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@kehu.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if html:
        msg.set_content(body, subtype="html")
    else:
        msg.set_content(body)
    return msg.as_bytes()


def _fetch(folder) -> str:
    out = StringIO()
    call_command("service", "fetch-mail", "--folder", str(folder), stdout=out)
    return out.getvalue()


def test_mail_opens_tickets_threads_replies_and_sets_strangers_aside(users, customers,
                                                                     tmp_path):
    east = customers["east"]
    contact = create_contact(users["admin"], east, {"name": "王经理",
                                                    "email": "Wang@Huadong.example"})
    (tmp_path / "1.eml").write_bytes(_eml("王经理 <wang@huadong.example>", "投诉：打印机卡纸",
                                          "每页都卡纸，已经三天了。", "<m1@huadong>"))
    (tmp_path / "2.eml").write_bytes(_eml("someone@unknown.example", "Hello", "Who am I?",
                                          "<m2@x>"))
    (tmp_path / "3.eml").write_bytes(_eml("info@huadong.example", "Invoice copy",
                                          "<p>Please send the <b>invoice</b></p>", "<m3@x>",
                                          html=True))
    out = _fetch(tmp_path)
    assert "Opened 2, added to tickets 0, already read 0, unknown senders 1" in out
    jam = Ticket.objects.get(email_message_id="<m1@huadong>")
    assert (jam.customer, jam.contact, jam.channel) == (east, contact, TicketChannel.EMAIL)
    assert jam.kind == "complaint" and jam.subject == "投诉：打印机卡纸"
    entry = jam.entries.get()
    assert entry.kind == EntryKind.CUSTOMER and entry.sender == "wang@huadong.example"
    # The customer's own address matches the customer; HTML is read as text.
    invoice = Ticket.objects.get(subject="Invoice copy")
    assert invoice.contact is None and "Please send the  invoice" in invoice.description
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["1.eml", "3.eml"]
    assert [p.name for p in (tmp_path / "unmatched").iterdir()] == ["2.eml"]
    # We ask; the customer answers quoting the number: the answer goes onto the ticket.
    add_entry(users["admin"], jam, kind="reply", body="请告知型号", waiting=True)
    (tmp_path / "4.eml").write_bytes(_eml("wang@huadong.example",
                                          f"回复：[{jam.number}] 投诉：打印机卡纸",
                                          "型号 HP-1020", "<m4@huadong>"))
    # The same message again (a second copy) is filed once.
    (tmp_path / "5.eml").write_bytes(_eml("wang@huadong.example", f"Re: {jam.number}",
                                          "型号 HP-1020", "<m4@huadong>"))
    out = _fetch(tmp_path)
    assert "Opened 0, added to tickets 1, already read 1, unknown senders 0" in out
    jam.refresh_from_db()
    assert jam.status == TicketStatus.OPEN  # it was waiting for the customer
    assert list(jam.entries.values_list("body", flat=True))[-1] == "型号 HP-1020"


def test_a_number_of_another_customers_ticket_opens_a_new_one(users, customers, tmp_path):
    other = Ticket.objects.create(customer=customers["north"], subject="North's",
                                  opened_at="2026-01-01T00:00:00Z")
    (tmp_path / "1.eml").write_bytes(_eml("info@huadong.example", f"Re: [{other.number}]",
                                          "Not yours", "<x1@x>"))
    _fetch(tmp_path)
    assert other.entries.count() == 0
    assert Ticket.objects.filter(customer=customers["east"]).count() == 1


def test_the_command_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match="either"):
        call_command("service", "fetch-mail")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("service", "fetch-mail", "--folder", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="KEHU_IMAP_PASSWORD"):
        call_command("service", "fetch-mail", "--imap-host", "127.0.0.1")


class FakeImap:
    """An IMAP server's answers for two unread messages."""

    boxes: dict = {}

    def __init__(self, host, port=None):
        self.flags: dict[bytes, set] = {}
        FakeImap.last = self

    def login(self, user, password):
        assert (user, password) == ("service", "secret")

    def select(self, mailbox):
        return "OK", [b"2"]

    def uid(self, command, *args):
        if command == "search":
            return "OK", [b"11 12"]
        if command == "fetch":
            return "OK", [(b"x", FakeImap.boxes[args[0]]), b")"]
        if command == "store":
            self.flags.setdefault(args[0], set()).add(args[2])
            return "OK", []
        raise AssertionError(command)

    def close(self):
        pass

    def logout(self):
        pass


def test_an_imap_mailbox_is_read_and_marked(users, customers, monkeypatch):
    FakeImap.boxes = {b"11": _eml("info@huadong.example", "Need a repair", "Broken",
                                  "<i1@x>"),
                      b"12": _eml("nobody@else.example", "Spam", "x", "<i2@x>")}
    monkeypatch.setattr(intake.imaplib, "IMAP4_SSL", FakeImap)
    monkeypatch.setenv("KEHU_IMAP_PASSWORD", "secret")
    call_command("service", "fetch-mail", "--imap-host", "mail.example", "--imap-user",
                 "service", stdout=StringIO())
    assert Ticket.objects.get().subject == "Need a repair"
    # The stranger's message is flagged for a person and marked read, not read every run.
    assert FakeImap.last.flags == {"11": {"(\\Seen)"}, "12": {"(\\Seen \\Flagged)"}}


def test_a_message_that_fails_does_not_stop_the_others(users, customers, tmp_path,
                                                      monkeypatch):
    from kehu.service.tickets import services

    real = services.open_ticket

    def open_ticket(user, customer, **fields):
        if fields["subject"] == "Breaks the filing":
            raise ValueError("the database went away")
        return real(user, customer, **fields)

    monkeypatch.setattr(services, "open_ticket", open_ticket)
    (tmp_path / "1.eml").write_bytes(_eml("info@huadong.example", "Breaks the filing", "x",
                                          "<f1@x>"))
    (tmp_path / "2.eml").write_bytes(_eml("info@huadong.example", "Need a repair", "Broken",
                                          "<f2@x>"))
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("service", "fetch-mail", "--folder", str(tmp_path), stdout=out,
                     stderr=err)
    assert exit_.value.code == 1
    assert "1.eml: could not be filed, left to be read again: the database went away" in \
        err.getvalue()
    assert "1 message could not be filed." in err.getvalue()
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Need a repair"]
    # The failed one stays in the folder for the next run; the filed one moved to done/.
    assert (tmp_path / "1.eml").exists() and (tmp_path / "done" / "2.eml").exists()
