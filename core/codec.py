"""Replies as JSON, so a message can wait (in the outbox, or until its send is confirmed)
and be rendered when it is sent."""

import base64
from datetime import date, datetime
from typing import Any

from core.messages import (
    LaterDocument,
    Lines,
    Link,
    Money,
    Number,
    Option,
    OutDocument,
    Reply,
    Response,
    SharedFile,
    Text,
)

MAX_QUEUED_BYTES = 2_000_000


def reply_to_json(reply: Reply, *, max_bytes: int | None = MAX_QUEUED_BYTES) -> dict[str, Any]:
    """Return a reply's JSON form; small documents (a digest's chart) go along in base64.

    `max_bytes` None is for a form that is not stored (a queued message whose documents
    were made as it is sent, see `LaterDocument`)."""
    if max_bytes is not None and sum(len(d.content) for d in reply.documents) > max_bytes:
        raise ValueError("documents this large cannot be queued")
    return {
        "text": _dump(reply.text),
        "options": [{"value": o.value, "label": _dump(o.label)} for o in reply.options],
        "documents": [
            {"name": d.file_name, "base64": base64.b64encode(d.content).decode()}
            for d in reply.documents
        ],
        "files": [
            {"kind": f.kind, "channel": f.channel, "ref": f.file_ref, "name": f.file_name}
            for f in reply.files
        ],
        **({"edit": True} if reply.edit else {}),
        **({"links": [_dump_link(link) for link in reply.links]} if reply.links else {}),
        **(
            {"later": [{"kind": d.kind, "params": d.params} for d in reply.later]}
            if reply.later
            else {}
        ),
    }


def _dump_link(link: Link) -> dict[str, Any]:
    return {"label": _dump(link.label), "start": link.start, "url": link.url}


def _load_link(data: dict[str, Any]) -> Link:
    label = _load(data["label"])
    if not isinstance(label, Text):
        raise ValueError("a link's label must be a catalog text")
    url = data.get("url")
    return Link(label, str(data.get("start") or ""), None if url is None else str(url))


def reply_from_json(data: dict[str, Any]) -> Reply:
    """Rebuild a reply from its JSON form."""
    text = _load(data["text"])
    if not isinstance(text, Text):
        raise ValueError("a reply's text must be a catalog text")
    options = []
    for option in data.get("options", []):
        label = _load(option["label"])
        if not isinstance(label, Text):
            raise ValueError("an option's label must be a catalog text")
        options.append(Option(str(option["value"]), label))
    documents = tuple(
        OutDocument(str(d["name"]), base64.b64decode(d["base64"]))
        for d in data.get("documents", [])
    )
    files = tuple(
        SharedFile(
            "photo" if f["kind"] == "photo" else "document",
            str(f["channel"]),
            str(f["ref"]),
            None if f.get("name") is None else str(f["name"]),
        )
        for f in data.get("files", [])
    )
    edit = bool(data.get("edit"))
    links = tuple(_load_link(link) for link in data.get("links", []))
    later = tuple(LaterDocument(str(d["kind"]), dict(d["params"])) for d in data.get("later", []))
    return Reply(
        text, tuple(options), documents=documents, files=files, links=links, edit=edit, later=later
    )


def response_to_json(response: Response) -> dict[str, Any]:
    """Return a response's JSON form: its language, replies and toast."""
    return {
        "language": response.language,
        "replies": [reply_to_json(reply) for reply in response.replies],
        "toast": None if response.toast is None else _dump(response.toast),
    }


def response_from_json(data: dict[str, Any]) -> Response:
    """Rebuild a response from its JSON form."""
    toast = None if data.get("toast") is None else _load(data["toast"])
    if toast is not None and not isinstance(toast, Text):
        raise ValueError("a toast must be a catalog text")
    replies = tuple(reply_from_json(reply) for reply in data.get("replies", []))
    return Response(str(data["language"]), replies, toast=toast)


def _dump(value: Any) -> Any:
    if isinstance(value, Text):
        return {"$text": value.key, "params": {k: _dump(v) for k, v in value.params.items()}}
    if isinstance(value, Lines):
        return {"$lines": [_dump(item) for item in value.items]}
    if isinstance(value, Money):
        return {"$money": value.vnd}
    if isinstance(value, Number):
        return {"$number": value.value}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot queue a parameter of type {type(value).__name__}")


def _load(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "$text" in value:
        params = {k: _load(v) for k, v in value.get("params", {}).items()}
        return Text(str(value["$text"]), params)
    if "$lines" in value:
        return Lines(tuple(_load(item) for item in value["$lines"]))
    if "$money" in value:
        return Money(int(value["$money"]))
    if "$number" in value:
        return Number(int(value["$number"]))
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    raise ValueError(f"unknown value in a queued reply: {sorted(value)}")
