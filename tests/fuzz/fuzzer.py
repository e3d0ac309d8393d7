"""Schemathesis over every operation of the served schema, counting what it finds: the
engine of tests/fuzz and bench/fuzz.py. Each operation gets schema-valid and
schema-invalid requests (both of schemathesis's generation modes); every response is
checked, and a failure is recorded rather than raised, so one run counts them all."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import (
    JsonSchemaError,
    MalformedMediaType,
    MissingContentType,
    MissingHeaders,
    UndefinedContentType,
    UndefinedStatusCode,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# No 5xx; status code, content type, headers and body as documented (a 400 body names the
# fields: the schema lists them); schema-invalid input refused with a 4xx.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
SCHEMA_VIOLATIONS = (JsonSchemaError, UndefinedStatusCode, UndefinedContentType, MissingContentType, MalformedMediaType,
                     MissingHeaders)
SAMPLES = 3  # failure messages kept per (kind, operation)
TIMEOUT = 60  # a forecast replays the day: seconds, not milliseconds


@dataclass
class Report:
    requests: int = 0
    operations: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)  # kind → failures: "5xx", "schema", "other"
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, kind: str, operation: str, message: str) -> None:
        self.counts[kind] += 1
        kept = self.samples.setdefault((kind, operation), [])
        if len(kept) < SAMPLES:
            kept.append(message)

    def failures(self) -> str:
        return "\n\n".join(f"[{kind}] {operation}\n{message}" for (kind, operation), messages in sorted(self.samples.items())
                           for message in messages)


def kind_of(failure: Exception) -> str:
    if isinstance(failure, ServerError):
        return "5xx"
    return "schema" if isinstance(failure, SCHEMA_VIOLATIONS) else "other"


def fuzz_operation(operation, base_url: str, headers: dict, examples: int, report: Report, checks=CHECKS) -> None:
    strategy = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])

    @settings(max_examples=examples, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def send(case):
        report.requests += 1
        try:
            response = case.call(base_url=base_url, session=http, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            report.record("other", operation.label, f"{case.as_curl_command(headers=headers)}\n{error!r}")
            return
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report.record(kind_of(failure), operation.label, str(group) if len(group.exceptions) == 1 else str(failure))

    report.operations.add(operation.label)
    with requests.Session() as http:  # closed: a kept-alive connection holds a server thread and its database connection
        send()


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(schema, base_url: str, headers: dict, requests_at_least: int, checks=CHECKS) -> Report:
    """Rounds over every operation until at least `requests_at_least` requests were made
    (Hypothesis may stop an operation early once it has generated all it can)."""
    report, started, ops = Report(), time.monotonic(), operations(schema)
    while report.requests < requests_at_least:
        per_operation = math.ceil((requests_at_least - report.requests) / len(ops))
        for operation in ops:
            fuzz_operation(operation, base_url, headers, per_operation, report, checks)
    report.seconds = time.monotonic() - started
    return report
