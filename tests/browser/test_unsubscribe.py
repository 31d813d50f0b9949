"""The unsubscribe link of a marketing e-mail, in a real browser without signing in, in
English and in Chinese: the page asks, the click records the opt-out, the next e-mail is
held back, and the page names nobody."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from kehu.marketing.consent.models import Consent, SendStatus
from kehu.marketing.consent.sending import send_marketing_email
from kehu.marketing.consent.services import set_consent
from tests.browser.test_ui_flow import switch_language

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_person_unsubscribes_through_the_link(page, live_server, users, customers, shot,
                                                language):
    east, marketing = customers["east"], users["marketing1"]
    set_consent(marketing, east, channel="email", status="given", source="form")
    mail.outbox.clear()
    send_marketing_email(marketing, east, subject="Spring fair", body="Hello", origin="mailing")
    link = re.search(r"https?://\S+?(/unsubscribe/\S+/)", mail.outbox[0].body).group(1)
    page.goto(live_server.url + link)
    zh = language == "zh-hans"
    if zh:
        switch_language(page, "zh-hans")
    box = page.locator("#unsubscribe")
    assert ("您要停止接收我们的营销邮件吗" if zh else "stop receiving marketing e-mails") in \
        box.inner_text()
    assert east.name not in page.content() and "huadong" not in page.content()
    shot(page, f"unsubscribe-ask-{language}")
    page.click("#unsubscribe button[type=submit]")
    page.wait_for_selector("#unsubscribe .msg.success")
    assert ("您已退订" if zh else "You are unsubscribed") in box.inner_text()
    shot(page, f"unsubscribe-done-{language}")
    consent = Consent.objects.get(customer=east, contact=None, channel="email")
    assert (consent.status, consent.source) == ("refused", "unsubscribe")
    again = send_marketing_email(marketing, east, subject="Summer fair", body="Hello",
                                 origin="mailing")
    assert again.status == SendStatus.REFUSED
    # An altered link is refused, and says so in the reader's language.
    page.goto(live_server.url + link.replace("/unsubscribe/", "/unsubscribe/x"))
    assert ("此退订链接无效" if zh else "not valid") in page.locator("#unsubscribe").inner_text()
    shot(page, f"unsubscribe-invalid-{language}")
