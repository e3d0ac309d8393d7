"""The OpenAPI schema documents every answer an endpoint gives, not only its success:
403 (not logged in, or not staff for a change), 400 naming the offending fields (the
names are listed, so a client, and the fuzzer, can tell a field error from anything
else), 404 for a row or a page that is not there, 413 for a body over the size limit, 415 for
a body that is not JSON, 414 for a query string too long for the server, 429 for a user
over the call rate or an address that sent too many wrong tokens. An optional query parameter may be blank:
DRF takes `?date=` as no date given; one given twice is a 400."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from drf_spectacular.utils import OpenApiResponse

ERROR_LIST = {"type": "array", "items": {"type": "string"}}
# Every answer that is not about a field, as a component every operation registers.
DETAIL = {"type": "object", "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
          "required": ["detail"], "additionalProperties": False}
DETAIL_REF = {"$ref": "#/components/schemas/Detail"}


def answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def broker_down() -> OpenApiResponse:
    return OpenApiResponse(DETAIL_REF, description="The broker did not answer, or the account's API key variable is unset.")


def field_errors(names: list[str], extra: dict | None = None, shapes: dict | None = None) -> dict:
    """`{"field": ["what is wrong", ...]}` for the given names, `non_field_errors` for a
    refusal of no one field; `shapes`: other keys a refusal may carry, and their schemas."""
    properties = {name: ERROR_LIST for name in [*names, "non_field_errors"]} | (shapes or {})
    shape = {"type": "object", "properties": properties, "additionalProperties": False, "minProperties": 1}
    return {**shape, "patternProperties": extra} if extra else shape  # JSON Schema's, which OpenAPI 3.0 lacks


class ApiSchema(AutoSchema):
    """A view's `error_patterns` are name patterns its errors may use beyond the
    parameters and body fields (the forecast's `baskets.NAME`); its `error_fields`,
    keys a refusal carries beside the messages, with their serializers (a refused manual
    buy's `candidates`)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses, query = operation["responses"], [p for p in operation.get("parameters", []) if p["in"] == "query"]
        for parameter in query:
            if not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        detail = self.component("Detail", DETAIL)
        names = [p["name"] for p in query] + self.body_fields()
        if names:
            patterns = {pattern: ERROR_LIST for pattern in getattr(self.view, "error_patterns", ())}
            shapes = {name: self.resolve_serializer(serializer, "response").ref
                      for name, serializer in getattr(self.view, "error_fields", {}).items()}
            errors = self.component(f"{self.operation_name(operation)}Errors", field_errors(names, patterns, shapes))
            responses.setdefault("400", answer("Bad input: the fields named say why; a body that is not JSON: detail.",
                                               {"oneOf": [errors, detail]}))
        if "{" in self.path or "page" in names:
            responses.setdefault("404", answer("No such row, or no such page.", detail))
        if "requestBody" in operation:
            responses.setdefault("413", answer("The body is over DATA_UPLOAD_MAX_MEMORY_SIZE.", detail))
            responses.setdefault("415", answer("The body is not JSON.", detail))
        if query:  # gunicorn's own answer, an HTML page, before the app sees the request
            responses.setdefault("414", {"description": "The request line is over the server's limit (4,094 bytes)."})
        responses.setdefault("403", answer("Not logged in, or a change by a user who is not staff.", detail))
        responses.setdefault("429", answer("Too many calls by this user, or wrong tokens from this address.", detail))
        return operation

    def component(self, name: str, schema: dict) -> dict:
        """A named schema (a $ref), so that the reference page and clients see a name, not "object"."""
        found = ResolvedComponent(name, ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(found)
        return found.ref

    @staticmethod
    def operation_name(operation: dict) -> str:
        """"hedge_schedule_partial_update" → "SchedulePartialUpdate"."""
        return "".join(part.capitalize() for part in operation["operationId"].removeprefix("hedge_").split("_"))

    def body_fields(self) -> list[str]:
        if self.method not in ("POST", "PUT", "PATCH"):
            return []
        serializer = force_instance(self.get_request_serializer())
        return [name for name, field in getattr(serializer, "fields", {}).items() if not field.read_only]
