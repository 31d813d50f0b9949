"""`kehu unlock USERNAME`, `kehu unlock --ip ADDRESS`, `kehu unlock --list`: lift a sign-in
lock from the command line — for when the administrator is the one locked out. Like the
Sign-in locks page (the same service), every unlock is in the audit log."""

from __future__ import annotations

import ipaddress

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import lockout
from kehu.accounts.services import unlock_sign_in


class Command(BaseCommand):
    help = _("Unlock sign-in for a user name or a network address, or list the locks.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help=_("The user name to unlock."))
        parser.add_argument("--ip", metavar="ADDRESS", help=_("The address to unlock."))
        parser.add_argument("--list", action="store_true", help=_("List the locks in place."))

    def handle(self, *args, username: str | None, ip: str | None, list: bool,  # noqa: A002
               **options) -> None:
        if list:
            self._list()
            return
        if bool(username) == bool(ip):
            raise CommandError(_("Give a user name or --ip ADDRESS (one of them)."),
                               returncode=2)
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip.strip()))
            except ValueError:
                raise CommandError(_("“%(value)s” is not a network address.") % {"value": ip},
                                   returncode=2) from None
        removed = unlock_sign_in(None, username=username, address=ip, via="cli")
        what = username or ip
        if removed:
            self.stderr.write(_("Sign-in for “%(value)s” is unlocked (%(n)d records of failed "
                                "sign-ins removed).") % {"value": what, "n": removed})
        else:
            self.stderr.write(_("“%(value)s” had no failed sign-ins to remove: it was not "
                                "locked.") % {"value": what})

    def _list(self) -> None:
        locks = [(_("address"), lock) for lock in lockout.locked_addresses()] + [
            (_("user name"), lock) for lock in lockout.locked_names()]
        if not locks:
            self.stderr.write(_("Nothing is locked."))
            return
        for kind, lock in locks:
            self.stdout.write(f"{kind}\t{lock.key}\t{lock.failures}\t"
                              f"{timezone.localtime(lock.last):%Y-%m-%d %H:%M:%S}")
