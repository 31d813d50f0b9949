"""Types and helpers every router shares: bounded ids, text without NUL characters, decimals
as digits, input schemas generated from model fields, error and page shapes, and the error
answers every operation documents.

The JSON schema of each input type says exactly what the validator takes (NUL-free text,
decimal strings of digits), so that a client generating requests from the OpenAPI document
never sends a value the API refuses for its shape.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from django.db import models
from django.utils import timezone
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    create_model,
    field_validator,
)

# Primary keys are 64-bit; a larger number can match nothing, and databases refuse to
# compare with it, so it is rejected as input instead of failing in the database.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refusing it here gives the user a message
    # instead of a server error.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


class _JsonSchemaExtra:
    """Adds keywords to a type's JSON schema without changing how it validates."""

    def __init__(self, **keywords: Any):
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema.update(self.keywords)
        return schema


_NO_NUL = _JsonSchemaExtra(pattern="^[^\\x00]*$")

Text = Annotated[str, AfterValidator(_no_nul), _NO_NUL]


def bounded_text(max_length: int, min_length: int = 0) -> Any:
    # The length is checked on the string itself, before the NUL check, so that pydantic
    # reports it as characters ("at most 200 characters").
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     AfterValidator(_no_nul), _NO_NUL]


# Cursors are opaque and short; a long one is not a cursor.
Cursor = Annotated[bounded_text(500), Field(description=(
    "The `next_cursor` of the previous page. A cursor that cannot be a position in this "
    "list (mangled, edited, or from another sort order) gives the first page."))]


class _DecimalSchema:
    """A decimal is sent as a string of digits ("1234.50"), or as a JSON number; this is the
    JSON schema of exactly what `decimal_number()` takes."""

    def __init__(self, max_digits: int, decimal_places: int):
        self.whole = max_digits - decimal_places
        self.places = decimal_places

    def pattern(self) -> str:
        fraction = rf"(\.[0-9]{{1,{self.places}}})?" if self.places else ""
        return rf"^-?[0-9]{{1,{self.whole}}}{fraction}$"

    def __get_pydantic_json_schema__(self, core_schema, handler):
        bound = 10 ** self.whole
        return {"anyOf": [
            {"type": "string", "pattern": self.pattern()},
            {"type": "number", "exclusiveMinimum": -bound, "exclusiveMaximum": bound,
             "multipleOf": 10 ** -self.places if self.places else 1},
        ]}


def decimal_number(max_digits: int, decimal_places: int) -> Any:
    """A Decimal of at most `max_digits` digits, `decimal_places` of them after the point.
    A string must be digits with an optional sign and point: "1e3", " 12", "NaN" are
    refused instead of read as some number the user did not write."""
    doc = _DecimalSchema(max_digits, decimal_places)
    pattern = re.compile(doc.pattern())

    def digits_only(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"Enter a number with at most {doc.whole} digits before the "
                             f"point and {doc.places} after it, such as \"1234.50\"")
        return value

    return Annotated[Decimal, BeforeValidator(digits_only),
                     Field(max_digits=max_digits, decimal_places=decimal_places,
                           allow_inf_nan=False), doc]


def _storable(value: datetime | None) -> datetime | None:
    """Naive times are taken in the firm's time zone; times that fall outside what the
    database can store once converted to UTC are refused."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date and time out of range") from None
    return value


AwareDateTime = Annotated[datetime, AfterValidator(_storable)]


class _PlainValues:
    """What pydantic reads leniently and the OpenAPI document does not allow: true or false
    for a number (read as 1 or 0), and a number for a date (read as seconds since 1970).
    A client sending either has mixed up its fields; the document says what to send."""

    @field_validator("*", mode="before")
    @classmethod
    def _as_documented(cls, value: Any, info: ValidationInfo) -> Any:
        takes_bool, date_only = _field_takes(cls, info.field_name)
        if isinstance(value, bool) and not takes_bool:
            raise ValueError("true or false is not a value this field takes")
        if date_only and _is_number(value):
            raise ValueError("a date is written as YYYY-MM-DD, not as a number")
        return value


@functools.cache
def _field_takes(schema: type, name: str) -> tuple[bool, bool]:
    """Whether the field takes true or false, and whether it takes a date and no text:
    worked out once per field, not for every value of every request."""
    annotation = schema.model_fields[name].annotation
    return (_takes(annotation, bool),
            _takes(annotation, date) and not _takes(annotation, str))


def _takes(annotation: Any, kind: type) -> bool:
    if annotation is Any or (isinstance(annotation, type) and issubclass(annotation, kind)):
        return True
    return any(_takes(arg, kind) for arg in get_args(annotation))


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        return _NUMBER.fullmatch(value) is not None
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


class InputSchema(_PlainValues, Schema):
    # An unknown field is most likely a typo; silently dropping it would lose data.
    model_config = ConfigDict(extra="forbid")


class QueryParams(_PlainValues, Schema):
    """The query parameters of a list operation."""


def refuse_unknown_query(request, params: type[Schema]) -> None:
    """A query parameter the operation does not take is refused like an unknown body field:
    a misspelt filter (?stat=loyal) would otherwise answer the whole unfiltered list."""
    from ninja.errors import ValidationError as SchemaValidationError

    unknown = sorted(set(request.GET) - set(params.model_fields))
    if unknown:
        raise SchemaValidationError([
            {"loc": ("query", name), "msg": "Unknown parameter", "type": "extra_forbidden"}
            for name in unknown])


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class FieldErrorOut(Schema):
    field: str | None = Field(description="The field at fault, dotted for nested ones "
                                          "(lines.0.quantity); null for the whole request.")
    message: str
    # Only for errors in the shape of the request, found before kehu looks at it:
    # where the value was (body, query, path) and pydantic's error type.
    location: str | None = None
    type: str | None = None


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


class StaleOut(Schema):
    detail: str
    current_version: int
    changed_by: str | None


class BusyOut(Schema):
    detail: str
    code: Literal["busy"]


ERROR_SHAPES: dict[int, type[Schema]] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: StaleOut, 413: ErrorOut,
    415: ErrorOut, 422: ValidationErrorOut, 503: BusyOut}


def errors(*codes: int) -> dict[int, type[Schema]]:
    """The error responses an operation documents besides the ones every operation of its
    kind has (see kehu.api.api.document_common_errors)."""
    return {code: ERROR_SHAPES[code] for code in codes}


def _choice_type(field: models.Field) -> Any:
    values = [value for value, _label in field.flatchoices]
    if field.blank and "" not in values:
        values.insert(0, "")
    return Literal[tuple(values)]


def input_type(field: models.Field) -> Any:
    """The pydantic type accepting what `field` can store, bounded so that no value reaches
    the database that it would refuse with an error rather than a validation message."""
    if isinstance(field, models.DecimalField):
        base: Any = decimal_number(field.max_digits, field.decimal_places)
    elif isinstance(field, models.DateTimeField):
        base = AwareDateTime
    elif isinstance(field, models.DateField):
        base = date
    elif isinstance(field, models.BooleanField):
        base = bool
    elif isinstance(field, models.PositiveSmallIntegerField):
        base = Annotated[int, Field(ge=0, le=32767)]
    elif isinstance(field, models.IntegerField):
        base = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
    elif field.choices:
        base = _choice_type(field)
    elif isinstance(field, models.CharField):
        base = bounded_text(field.max_length)
    else:
        base = Text
    return base | None if field.null else base


def output_type(field: models.Field) -> Any:
    if isinstance(field, models.DecimalField):
        base: Any = Decimal
    elif isinstance(field, models.DateTimeField):
        base = datetime
    elif isinstance(field, models.DateField):
        base = date
    elif isinstance(field, models.BooleanField):
        base = bool
    elif isinstance(field, models.IntegerField):
        base = int
    else:
        base = str
    return base | None if field.null else base


def input_schema(name: str, model: type[models.Model], fields: tuple[str, ...], *,
                 required: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
                 doc: str = "") -> type[Schema]:
    """An input schema for `fields` of `model`; fields not in `required` may be omitted, and
    only the ones sent are written (a PATCH changes what it names)."""
    definitions: dict[str, Any] = {}
    for field_name in fields:
        field = model._meta.get_field(field_name)
        kind = input_type(field)
        info = Field(... if field_name in required else None,
                     description=str(field.verbose_name))
        definitions[field_name] = (kind, info)
    definitions.update(extra or {})
    schema = create_model(name, __base__=InputSchema, **definitions)
    schema.__doc__ = doc or None
    return schema


def output_schema(name: str, model: type[models.Model], fields: tuple[str, ...], *,
                  optional: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
                  doc: str = "") -> type[Schema]:
    """An output schema; fields in `optional` may be absent (the sensitive tier)."""
    extra = dict(extra or {})
    # The id leads, as a reader of the JSON expects.
    definitions: dict[str, Any] = {"id": extra.pop("id")} if "id" in extra else {}
    for field_name in fields:
        field = model._meta.get_field(field_name)
        kind = output_type(field)
        if field_name in optional:
            definitions[field_name] = (kind | None, Field(
                None, description=f"{field.verbose_name} (only for users in the sensitive tier)"))
        else:
            definitions[field_name] = (kind, Field(..., description=str(field.verbose_name)))
    definitions.update(extra)
    schema = create_model(name, __base__=Schema, **definitions)
    schema.__doc__ = doc or None
    return schema


def username(user) -> str | None:
    return user.username if user is not None else None
