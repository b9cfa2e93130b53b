"""Schemathesis hooks for an Alongside node (loaded through SCHEMATHESIS_HOOKS by ./run).

GraphQL: schemathesis' own `not_a_server_error` takes every resolver error that is not labelled
BAD_USER_INPUT as a server failure, but our documented contract (docs/api.md, "Errors") answers
refusals with FORBIDDEN, NOT_FOUND, CONFLICT, ... and keeps INTERNAL for our own failures. This
check holds GraphQL responses to that contract instead: no HTTP 5xx, a JSON object with `data` or
`errors`, every resolver error labelled with a documented code, and none INTERNAL.
"""

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

DOCUMENTED_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "LIMIT_EXCEEDED",
    "RATE_LIMITED",
    "UNAVAILABLE",
    "QUERY_NOT_ALLOWED",
}

# Our JSON scalar (survey answers, assessment answers) takes any JSON value; strings and numbers
# are enough to exercise its parsing.
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int)),
)


@schemathesis.check
def graphql_error_contract(ctx, response, case):
    if not case.operation.label.startswith(("QueryRoot.", "MutationRoot.")):
        return None
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code} from /graphql")
    try:
        payload = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"the response is not JSON: {err}") from err
    if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
        raise AssertionError("the response has neither `data` nor `errors`")
    for error in payload.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL error: {error.get('message')}")
        if code is None and "path" in error:
            raise AssertionError(f"a resolver error without extensions.code: {error.get('message')}")
        if code is not None and code not in DOCUMENTED_CODES:
            raise AssertionError(f"undocumented extensions.code {code}")
    return None
