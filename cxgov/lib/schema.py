"""The API's error answers in its OpenAPI schema, described once for every operation.

Every endpoint answers errors in the shapes the exception handler produces: 400 with the invalid
fields and their messages (``{"field": ["message"]}``, ``non_field_errors`` or ``detail`` for the
request as a whole; a list of such objects for a list body), and every other refusal as
``{"detail": "message"}``. Views declare only their successful answers; the post-processing hook
below adds the errors each operation can give, so the schema and the answers cannot drift apart
one view at a time.
"""

from __future__ import annotations

from rest_framework.settings import api_settings

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

COMPONENTS = {
    ERROR: {
        "type": "object",
        "description": "A refusal with its reason.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "description": (
            "What is wrong with the request: each invalid field with its messages "
            '(`{"field": ["message"]}`), `non_field_errors` or `detail` for the request as a whole; '
            "for a list body, one such object per item."
        ),
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
            },
            {"type": "array", "items": {"type": "object"}},
        ],
    },
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _answer(description: str, component: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _challenges_unauthenticated() -> bool:
    """DRF answers 401 (not 403) to an unauthenticated call when its first authenticator sends a challenge."""
    classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    return bool(classes) and classes[0]().authenticate_header(None) is not None


def error_responses(method: str, operation: dict) -> dict[str, dict]:
    """The error answers one operation can give, by what it takes (a body, query or path parameters)."""
    parameters = operation.get("parameters", [])
    takes_path = any(p["in"] == "path" for p in parameters)
    takes_query = any(p["in"] == "query" for p in parameters)
    paginated = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
    takes_body = "requestBody" in operation
    answers = {}
    if takes_body or takes_query or method in WRITE_METHODS:
        answers["400"] = _answer("The request is invalid; nothing was changed.", VALIDATION_ERROR)
    if _challenges_unauthenticated():
        answers["401"] = _answer("Not logged in.", ERROR)
    answers["403"] = _answer("Not logged in, or not allowed to do this.", ERROR)
    if takes_path or paginated:
        answers["404"] = _answer("No such object (or page) for this user.", ERROR)
    if method in WRITE_METHODS:
        answers["409"] = _answer("The change clashes with existing data (e.g. other records depend on it).", ERROR)
    if takes_body:
        answers["415"] = _answer("The body is not in a media type this operation accepts.", ERROR)
    answers["429"] = _answer("Too many requests; try again later.", ERROR)
    return answers


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): adds the
    shared error components and each operation's error answers, keeping the description (and any
    body) a view declares itself."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in COMPONENTS.items():
        schemas.setdefault(name, schema)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = operation["responses"]
            for status, answer in error_responses(method, operation).items():
                declared = answers.setdefault(status, answer)
                # A view may describe an error in its own words; its body is still the shared shape.
                declared.setdefault("content", answer["content"])
    return result
