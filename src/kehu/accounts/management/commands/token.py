"""`kehu token create|list|revoke`: personal API tokens from the command line.

`create` prints the raw token, and nothing else, on stdout so that a script can capture it;
everything meant for a person goes to stderr.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.accounts.models import ApiToken, User
from kehu.accounts.tokens import create_token, revoke_token


class Command(BaseCommand):
    help = _("Create, list and revoke personal API tokens.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help=_("Create a token and print it once."))
        create.add_argument("username")
        create.add_argument("--name", default="", help=_("What the token is for."))
        listing = sub.add_parser("list", help=_("List tokens (without their secrets)."))
        listing.add_argument("username", nargs="?", help=_("Only this user's tokens."))
        listing.add_argument("--all", action="store_true", help=_("Include revoked tokens."))
        revoke = sub.add_parser("revoke", help=_("Revoke a token by its id or prefix."))
        revoke.add_argument("token", help=_("The id shown by `list`, or the token's prefix."))

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(_("No user named “%(name)s”.") % {"name": username},
                               returncode=2) from None

    def _create(self, username: str, name: str, **_options) -> None:
        user = self._user(username)
        if not user.is_active:
            raise CommandError(_("User “%(name)s” is inactive.") % {"name": username},
                               returncode=2)
        token, raw = create_token(user, name.strip() or "cli")
        self.stdout.write(raw)
        self.stderr.write(_("Created token %(id)s “%(name)s” for %(user)s. It is shown only "
                            "this once.") % {"id": token.pk, "name": token.name,
                                             "user": user.username})

    def _list(self, username: str | None, all: bool, **_options) -> None:  # noqa: A002
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "pk")
        if username:
            tokens = tokens.filter(user=self._user(username))
        if not all:
            tokens = tokens.filter(revoked_at__isnull=True)
        rows = [(str(t.pk), t.user.username, t.prefix + "…", t.name,
                 f"{t.created_at:%Y-%m-%d %H:%M}",
                 f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                 _("revoked") if t.revoked_at else _("active"))
                for t in tokens]
        if not rows:
            self.stderr.write(_("No tokens."))
            return
        header = (_("id"), _("user"), _("prefix"), _("name"), _("created"), _("last used"),
                  _("status"))
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths,
                                                                       strict=True)).rstrip())

    def _revoke(self, token: str, **_options) -> None:
        tokens = ApiToken.objects.select_related("user")
        token = token.strip().rstrip("…")  # `list` shows prefixes with an ellipsis
        if token.isdigit():
            found = list(tokens.filter(pk=int(token))[:2]) if len(token) < 19 else []
        else:
            found = list(tokens.filter(prefix=token[:12])[:2]) if len(token) >= 12 else []
        if not found:
            raise CommandError(_("No token “%(token)s”.") % {"token": token}, returncode=2)
        if len(found) > 1:
            raise CommandError(_("The prefix “%(token)s” matches several tokens; revoke by id.")
                               % {"token": token}, returncode=2)
        target = found[0]
        if target.revoked_at is not None:
            self.stderr.write(_("Token %(id)s was already revoked.") % {"id": target.pk})
            return
        revoke_token(target.user, target)
        self.stderr.write(_("Revoked token %(id)s “%(name)s” of %(user)s.")
                          % {"id": target.pk, "name": target.name, "user": target.user.username})
