"""Read Bot API parameters from a query string, JSON, a urlencoded form or multipart form data."""

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.errors import bad_request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str
    content_type: str


class Params:
    """Parameters of one call, coercing the strings that form-encoded clients send."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def text(self, name: str) -> str | None:
        """Return a string parameter, or None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str) -> int | None:
        """Return an integer parameter, or None when absent; 400 when it is not a number."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        """Return a numeric parameter such as a long-poll timeout."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def required_int(self, name: str) -> int:
        """Return an integer parameter that must be present."""
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        """Return a boolean parameter; form clients send "true"/"false" or "1"/"0"."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str) -> Any:
        """Return a structured parameter, decoding the JSON string form clients send."""
        value = self.values.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """Return an uploaded part (direct or via attach://) or the file_id/URL string given."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.text(name)
        if value and value.startswith("attach://"):
            upload = self.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"{name} attachment not found")
            return upload
        return value or None


async def read_params(request: web.Request) -> Params:
    """Merge query-string parameters with the body in whichever encoding the client chose."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "GET" or not request.can_read_body:
        return Params(values)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        values.update(body)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read(decode=True)
                mime = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(data, part.filename, mime)
            else:
                values[part.name] = await part.text()
    elif content_type in FORM_TYPES or not content_type or content_type == "text/plain":
        form = await request.post()
        values.update({key: value for key, value in form.items() if isinstance(value, str)})
    return Params(values, uploads)
