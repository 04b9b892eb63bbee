"""Bot API error answers, shaped like Telegram's."""

from typing import Any

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A failed Bot API call: HTTP status, description and optional parameters."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        html: bool = False,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id
        self.html = html  # answered as an HTML page, not Telegram's JSON

    def page(self) -> str:
        """Return the HTML page a proxy in front of the Bot API answers with."""
        return f"<html><head><title>{self.code} {self.description}</title></head></html>"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        parameters = {
            name: value
            for name, value in (
                ("retry_after", self.retry_after),
                ("migrate_to_chat_id", self.migrate_to_chat_id),
            )
            if value is not None
        }
        if parameters:  # ResponseParameters
            body["parameters"] = parameters
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """Build a 429 flood-control error asking the client to wait."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def injected(
    code: int, *, description: str | None = None, retry_after: int = 1, html: bool = False
) -> ApiError:
    """Build an error a test asked for, with Telegram's usual wording for its code."""
    if code == 429:
        error = too_many_requests(retry_after)
        if description:
            error.description = description
    else:
        error = ApiError(code, description or DEFAULT_DESCRIPTIONS.get(code, "Error"))
    error.html = html
    return error
