"""The application form as a DOCX: a docxtpl template (ours, or an organization's own)
filled from an initiative.

The form is Vietnamese whoever asks for it (it is filed with a Vietnamese council): the
values are rendered in Vietnamese, the wording is the template's. Templates render in a
sandbox, with every value escaped, and a name the context lacks is an error, so an
organization's template is checked before it is kept (`check`).
"""

import io
import logging
import re
import zipfile
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from lxml.etree import XMLSyntaxError

from core.errors import Refused
from core.messages import Text, clean_text, t
from core.money import format_vnd
from locales import Catalogs
from services.forms import Form, FormAuthor
from storage.models import Initiative, Unit
from views.labels import FIELD_LABELS

logger = logging.getLogger(__name__)
TEMPLATE = Path(__file__).parent / "templates" / "application_form.docx"
LANGUAGE = "vi"
DOTS = "…" * 12
BLANK_ROWS = 3  # rows left to fill by hand where the bot knows nobody
# What a template that does not fill raises: not a DOCX, a tag left open or a name
# misspelt, XML broken by what was filled in.
FILL_ERRORS = (
    TemplateError,
    zipfile.BadZipFile,
    PackageNotFoundError,
    XMLSyntaxError,
    KeyError,
    ValueError,
)


def file_name(initiative_id: int, suffix: str) -> str:
    """Return the file name of an initiative's form ("don-yeu-cau-…-12.docx")."""
    return f"don-yeu-cau-cong-nhan-sang-kien-{initiative_id}{suffix}"


def context(form: Form, *, catalogs: Catalogs, zone: tzinfo) -> dict[str, Any]:
    """Return the values a form template is filled with (README lists them)."""
    initiative = form.initiative

    def say(text: Text) -> str:
        return catalogs.render(text, LANGUAGE)

    field = FIELD_LABELS.get(initiative.field or "")
    signed = initiative.submitted_at.astimezone(zone).date() if initiative.submitted_at else None
    benefit = initiative.estimated_benefit_vnd
    return {
        "id": initiative.id or 0,
        "council": form.council.name,
        "owner": form.owner.name,
        "title": _text(initiative.title),
        "field": say(field) if field is not None else "",
        "applied": initiative.applied,
        "first_applied": _day(initiative.first_applied_on) if initiative.applied else "",
        "problem": _text(initiative.problem),
        "solution": _text(initiative.solution),
        "confidential": initiative.confidential,
        "conditions": _text(initiative.apply_conditions),
        "benefit": format_vnd(benefit, LANGUAGE) if benefit else "",
        "effects": _text(initiative.other_effects),
        "authors": [
            _author(n, a, say(t("card.anonymous"))) for n, a in enumerate(form.authors, 1)
        ],
        "participants": _participants(initiative.apply_participants),
        "day": f"{signed.day:02d}" if signed else DOTS[:4],
        "month": f"{signed.month:02d}" if signed else DOTS[:4],
        "year": str(signed.year) if signed else DOTS[:6],
    }


def _text(value: str | None) -> str:
    """User text without the control characters a document cannot hold (\\n, \\t kept)."""
    return clean_text(value) or ""


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _author(number: int, author: FormAuthor, anonymous: str) -> dict[str, Any]:
    return {
        "number": number,
        "name": _text(author.name) or anonymous,
        "workplace": ", ".join(author.workplace) or DOTS,
        "share": author.share_percent,
    }


def _participants(text: str | None) -> list[dict[str, Any]]:
    """A row per person the authors named (one per line, or separated by ;), then blank
    rows up to BLANK_ROWS for the rest to be written by hand."""
    names = [name.strip() for name in re.split(r"[;\n]", _text(text)) if name.strip()]
    rows = [_blank(number) | {"name": name} for number, name in enumerate(names, 1)]
    return rows + [_blank(number) for number in range(len(rows) + 1, BLANK_ROWS + 1)]


def _blank(number: int) -> dict[str, Any]:
    keys = ("name", "born", "workplace", "position", "qualification", "work")
    return {"number": number, **dict.fromkeys(keys, "")}


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def fill(template: bytes, values: dict[str, Any]) -> bytes:
    """Fill a DOCX template with values and return the document."""
    from docxtpl import DocxTemplate  # imported here: every command line start would pay

    document = DocxTemplate(io.BytesIO(template))
    document.render(values, jinja_env=_environment(), autoescape=True)
    written = io.BytesIO()
    document.save(written)
    return written.getvalue()


def render(form: Form, *, catalogs: Catalogs, zone: tzinfo) -> bytes:
    """Return the filled form of an initiative, in the nearest organization's template;
    in ours if that one fails on this initiative (it was checked on a sample only)."""
    values = context(form, catalogs=catalogs, zone=zone)
    if form.template is not None:
        try:
            return fill(form.template, values)
        except FILL_ERRORS as error:
            logger.warning(
                "an organization's form template failed on initiative %s (%s): ours is used",
                form.initiative.id,
                type(error).__name__,
            )
    return fill(TEMPLATE.read_bytes(), values)


def check(template: bytes, *, catalogs: Catalogs, zone: tzinfo) -> None:
    """Refuse a template that does not fill with our context into a document that opens."""
    try:
        filled = fill(template, context(sample(), catalogs=catalogs, zone=zone))
        Document(io.BytesIO(filled))
    except FILL_ERRORS as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise Refused("form.template_invalid", reason=reason) from None


def sample() -> Form:
    """A form with every value given, to check a template against."""
    when = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    owner = Unit(id=1, name="Công ty TNHH Mẫu", kind="enterprise", path="/1/", created_at=when)
    initiative = Initiative(
        id=1,
        unit_id=1,
        status="submitted",
        title="Sáng kiến mẫu",
        problem="Vấn đề",
        solution="Giải pháp",
        field="technical",
        estimated_benefit_vnd=1_000_000,
        other_effects="Lợi ích khác",
        applied=True,
        first_applied_on=date(2026, 1, 5),
        confidential=True,
        created_at=when,
        updated_at=when,
        submitted_at=when,
    )
    authors = (FormAuthor("Tác giả", 100, ("Tổ mẫu", owner.name)),)
    return Form(initiative, authors, owner, owner, None)
