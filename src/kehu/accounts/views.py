"""A user's own account: password and personal API tokens (list, create — the secret is
shown once —, revoke); for administrators, the sign-in locks in place."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.accounts import lockout
from kehu.accounts.forms import TokenForm, UnlockForm
from kehu.accounts.models import ApiToken
from kehu.accounts.services import unlock_sign_in
from kehu.accounts.tokens import create_token, revoke_token
from kehu.core import policy
from kehu.core.requests import client_ip


def _render(request: HttpRequest, form: TokenForm, raw: str | None = None,
            status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "accounts/tokens.html",
                  {"form": form, "tokens": tokens, "raw_token": raw, "nav": "tokens"},
                  status=status)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            _token, raw = create_token(request.user, form.cleaned_data["name"])
            # The secret goes straight into this response and nowhere else (not the session,
            # not a message): it is shown once and can never be recovered.
            return _render(request, TokenForm(), raw=raw)
        return _render(request, form, status=400)
    return _render(request, TokenForm())


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user, pk=pk, revoked_at__isnull=True).first()
    if token is None:
        raise Http404
    revoke_token(request.user, token)
    messages.success(request, _("Token “%(name)s” revoked; it no longer works.")
                     % {"name": token.name})
    return redirect("api_tokens")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form (old password, new one twice, the password validators); the session
    stays signed in, every other session of the user ends, and so do their API tokens."""

    template_name = "accounts/password_change.html"
    extra_context = {"nav": "password"}

    def form_valid(self, form):
        live = ApiToken.objects.filter(user=self.request.user, revoked_at__isnull=True).count()
        response = super().form_valid(form)
        if live:
            messages.success(self.request, ngettext(
                "Your password is changed. Your API token was revoked with the old password: "
                "create a new one for the program that used it.",
                "Your password is changed. Your %(n)d API tokens were revoked with the old "
                "password: create new ones for the programs that used them.", live)
                % {"n": live})
        else:
            messages.success(self.request, _("Your password is changed."))
        return response

    def get_success_url(self) -> str:
        return reverse("api_tokens") if ApiToken.objects.filter(
            user=self.request.user).exists() else reverse("customers:list")


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    """Administrators see the addresses and user names whose sign-in is locked, and lift a
    lock; for everybody else the page does not exist."""
    if not policy.may_unlock_sign_in(request.user):
        raise Http404
    status = 200
    if request.method == "POST":
        form = UnlockForm(request.POST)
        if form.is_valid():
            kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
            unlock_sign_in(request.user, ip=client_ip(request), via="web",
                           **{"username" if kind == "name" else "address": value})
            messages.success(request, _("Sign-in for “%(value)s” is unlocked.")
                             % {"value": value})
            return redirect("sign_in_locks")
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        status = 400
    return render(request, "accounts/lockouts.html", {
        "addresses": lockout.locked_addresses(), "names": lockout.locked_names(),
        "address_limit": settings.KEHU_SIGNIN_ADDRESS_LIMIT,
        "name_limit": settings.KEHU_SIGNIN_NAME_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "nav": "lockouts"}, status=status)
