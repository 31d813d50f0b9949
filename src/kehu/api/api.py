"""The REST API object: /api/v1/, authenticated by personal API tokens.

Errors are JSON naming the field at fault. A record the token's user may not see answers
404 exactly like one that does not exist, so ids never reveal what is out of reach.
Request bodies are JSON in UTF-8: any other content type answers 415, a body that does not
parse answers 400 saying where. The OpenAPI document lists every answer an operation can
give, the common ones (401, 404, 413, 415, 422, 503) included.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    RequestDataTooBig,
    ValidationError,
)
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from kehu.accounts.tokens import authenticate_token
from kehu.analytics.api import router as value_router
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.middleware import busy_response, is_busy
from kehu.core.schemas import ERROR_SHAPES
from kehu.customers.api import router as customers_router
from kehu.loans.api import router as loans_router
from kehu.marketing.campaigns.api import router as campaigns_router
from kehu.marketing.consent.api import router as consents_router
from kehu.marketing.offers.api import router as offers_router
from kehu.sales.api import router as sales_router
from kehu.sales.credit.api import router as credit_router
from kehu.sales.leads.api import router as leads_router
from kehu.sales.pipeline.api import router as pipeline_router
from kehu.sales.plans.api import router as account_plans_router
from kehu.service.knowledge.api import router as articles_router
from kehu.service.surveys.api import router as surveys_router
from kehu.service.tickets.api import router as tickets_router
from kehu.tasks.api import router as tasks_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class BodyRefused(Exception):
    """A request body kehu does not read: not JSON, not UTF-8, or too large."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class JsonBodyParser(Parser):
    """Bodies are JSON (RFC 8259: UTF-8). Anything else is refused, not guessed at: a form or
    a text/plain body read as JSON would hide a client's mistake."""

    def parse_body(self, request: HttpRequest) -> Any:
        media_type = (request.content_type or "").lower()
        charset = (request.content_params.get("charset") or "utf-8").lower()
        if not (media_type == "application/json" or media_type.endswith("+json")) or \
                charset not in {"utf-8", "utf8"}:
            raise BodyRefused(415, _(
                "Send the request body as JSON in UTF-8, with the header Content-Type: "
                "application/json (this request said %(type)s).")
                % {"type": request.META.get("CONTENT_TYPE") or _("no content type")})
        try:
            text = request.body.decode("utf-8")
        except RequestDataTooBig as exc:
            raise BodyRefused(413, _too_big_message()) from exc
        except UnicodeDecodeError:
            raise BodyRefused(400, _("The request body is not UTF-8 text.")) from None
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            raise BodyRefused(400, _("The request body is not valid JSON: %(error)s.")
                              % {"error": exc}) from None


class KehuAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict | None = None) -> Any:
        # The operations are all registered when the URLs load, so the document only
        # differs by prefix and language; building it takes most of a second, so each
        # one is built once and every caller gets its own copy to change.
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (path_prefix, get_language())
        if key not in self._schemas:
            schema = super().get_openapi_schema(path_prefix=path_prefix)
            document_common_errors(schema)
            self._schemas[key] = schema
        return copy.deepcopy(self._schemas[key])

    @functools.cached_property
    def _schemas(self) -> dict[tuple[str, str | None], Any]:
        return {}


# The answers every operation can give, by what the operation takes.
COMMON_ERRORS: dict[str, dict[int, str]] = {
    "every": {503: "The database is busy with other work (such as a value refresh); nothing "
                   "was saved. Send the request again after Retry-After seconds."},
    "secured": {401: "No valid API token: send `Authorization: Bearer kehu_...`."},
    "parameters": {422: "A parameter or field is invalid; each error names it."},
    "path": {404: "No such record, or one you may not see (the two answer alike)."},
    "body": {400: "The body is not valid JSON, or not UTF-8.",
             413: "The body is larger than the API takes.",
             415: "The body is not JSON (`Content-Type: application/json`, UTF-8).",
             422: "A parameter or field is invalid; each error names it."},
}


def document_common_errors(schema: dict) -> None:
    """Add the common answers to every operation of an OpenAPI document, with their JSON
    shapes, so that each operation lists every status it can answer with."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for shape in set(ERROR_SHAPES.values()):
        definition = shape.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components.setdefault(shape.__name__, definition)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = {p["in"] for p in operation.get("parameters", [])}
            kinds = ["every"]
            kinds += ["secured"] if operation.get("security", schema.get("security")) else []
            kinds += ["parameters"] if params else []
            kinds += ["path"] if "path" in params else []
            kinds += ["body"] if "requestBody" in operation else []
            responses = operation["responses"]
            for kind in kinds:
                for code, description in COMMON_ERRORS[kind].items():
                    if str(code) in responses or code in responses:
                        continue
                    ref = f"#/components/schemas/{ERROR_SHAPES[code].__name__}"
                    responses[code] = {"description": description,
                                       "content": {"application/json": {"schema": {"$ref": ref}}}}
                    if code == 503:
                        responses[code]["headers"] = {"Retry-After": {
                            "description": "Seconds to wait before sending it again.",
                            "schema": {"type": "integer"}}}


api = KehuAPI(
    title="kehu API",
    version="1",
    description=(
        "Customers, contacts, transactions, activities, lifecycle, customer value and loans of "
        "customer files of kehu. "
        "Authenticate with a personal token: `Authorization: Bearer kehu_...` "
        "(create one with `kehu token create USERNAME`)."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    # The docs page loads Swagger UI from the static files ninja ships (ninja is in
    # INSTALLED_APPS), so it works without internet; no validator badge call either.
    docs=Swagger(settings={"validatorUrl": None}),
    parser=JsonBodyParser(),
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


def _too_big_message() -> str:
    return _("The request body is too large: at most %(mb)d MB.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20}


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": _too_big_message()}, status=413)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # The framework wraps whatever the body parser raises in a generic 400; the parser's
    # own refusal says what is wrong and carries its status.
    refused = exc.__cause__
    if isinstance(refused, BodyRefused):
        return api.create_response(request, {"detail": refused.message}, status=refused.status)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _database_error(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    if is_busy(exc):
        return busy_response(request)
    raise exc


api.add_exception_handler(OperationalError, _database_error)
api.add_exception_handler(RequestDataTooBig, _too_big)
api.add_exception_handler(HttpError, _http_error)
api.add_exception_handler(ObjectDoesNotExist, _not_found)
api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(ValidationError, _invalid)
api.add_exception_handler(SchemaValidationError, _schema_invalid)
api.add_exception_handler(ServiceError, _refused)
api.add_exception_handler(NotPermitted, _not_permitted)
api.add_exception_handler(StaleVersion, _stale)

api.add_router("/", customers_router)
api.add_router("/", sales_router)
api.add_router("/", account_plans_router)
api.add_router("/", credit_router)
api.add_router("/", leads_router)
api.add_router("/", pipeline_router)
api.add_router("/", value_router)
api.add_router("/", loans_router)
api.add_router("/", tasks_router)
api.add_router("/", consents_router)
api.add_router("/", surveys_router)
api.add_router("/", campaigns_router)
api.add_router("/", tickets_router)
api.add_router("/", articles_router)
api.add_router("/", offers_router)

# Added last so that it matches only paths no other router has: an unknown API path
# answers JSON like every other API error, not the site's HTML 404 page.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}",
                        include_in_schema=False, auth=None)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    return _not_found(request, Http404())


api.add_router("/", fallback)
