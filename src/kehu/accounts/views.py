"""Personal API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.forms import TokenForm
from kehu.accounts.models import ApiToken
from kehu.accounts.tokens import create_token, revoke_token


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
