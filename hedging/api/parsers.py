"""The API's JSON parser: DRF's, refusing a body nested too deep for Python's parser
(a RecursionError, a 500) or for any body the API takes."""

from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

# The deepest body the API takes is two levels ({"weekdays": [...]}).
MAX_NESTING = 10


class TooLarge(APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it (RequestDataTooBig)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def nesting(value) -> int:
    """How deep lists and objects go in `value`, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_NESTING:
        item, depth = pending.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # Python's parser gives up near 1,000 levels
            raise ParseError(f"JSON parse error - nested deeper than {MAX_NESTING} levels") from None
        if nesting(data) > MAX_NESTING:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_NESTING} levels")
        return data
