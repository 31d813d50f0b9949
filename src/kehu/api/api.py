"""The REST API object: /api/v1/, authenticated by personal API tokens.

Errors are JSON naming the field at fault. A record the token's user may not see answers
404 exactly like one that does not exist, so ids never reveal what is out of reach.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    RequestDataTooBig,
    ValidationError,
)
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer

from kehu.accounts.tokens import authenticate_token
from kehu.analytics.api import router as value_router
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.middleware import busy_response, is_busy
from kehu.customers.api import router as customers_router
from kehu.sales.api import router as sales_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="kehu API",
    version="1",
    description=(
        "Customers, contacts, transactions, activities, lifecycle and customer value of kehu. "
        "Authenticate with a personal token: `Authorization: Bearer kehu_...` "
        "(create one with `kehu token create USERNAME`)."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    # The docs page loads Swagger UI from the static files ninja ships (ninja is in
    # INSTALLED_APPS), so it works without internet; no validator badge call either.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found")}, status=404)


def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # A ValidationError raised without a field (e.g. by a model's clean()) has no dict.
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    detail = [{"field": None if field == NON_FIELD_ERRORS else field, "message": message}
              for field, messages in items for message in messages]
    return api.create_response(request, {"detail": detail}, status=422)


def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    """Ninja's own 422, reshaped like kehu's: each error names its field."""
    detail = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        source, parts = (loc[0], loc[1:]) if loc else (None, [])
        if source == "body" and parts and parts[0] == "payload":
            parts = parts[1:]
        detail.append({"field": ".".join(parts) or None, "message": error.get("msg", ""),
                       "location": source, "type": error.get("type")})
    return api.create_response(request, {"detail": detail}, status=422)


def _refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field},
                               status=400)


def _not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field},
                               status=403)


def _stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": exc.message, "current_version": exc.current_version,
         "changed_by": exc.changed_by},
        status=409,
    )


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": _(
        "The request body is too large: at most %(mb)d MB.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20}}, status=413)


def _database_error(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    if is_busy(exc):
        return busy_response(request)
    raise exc


api.add_exception_handler(OperationalError, _database_error)
api.add_exception_handler(RequestDataTooBig, _too_big)
api.add_exception_handler(ObjectDoesNotExist, _not_found)
api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(ValidationError, _invalid)
api.add_exception_handler(SchemaValidationError, _schema_invalid)
api.add_exception_handler(ServiceError, _refused)
api.add_exception_handler(NotPermitted, _not_permitted)
api.add_exception_handler(StaleVersion, _stale)

api.add_router("/", customers_router)
api.add_router("/", sales_router)
api.add_router("/", value_router)

# Added last so that it matches only paths no other router has: an unknown API path
# answers JSON like every other API error, not the site's HTML 404 page.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}",
                        include_in_schema=False, auth=None)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    return _not_found(request, Http404())


api.add_router("/", fallback)
