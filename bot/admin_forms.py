"""Administration commands of the application form: write an initiative's form, and
give an organization its own template."""

from pathlib import Path

import typer

from bot.admin import JSON, database, emit, fail, say, unit_app
from bot.dispatch.dispatcher import utc_now
from core.errors import Refused
from core.messages import Text
from core.settings import Settings
from core.typed import number_in
from locales import Catalogs
from services import forms, units
from storage.models import Initiative
from storage.units import unit_by_id
from views import form_docx, form_pdf

FORMATS = ("docx", "pdf")


def form_command(
    initiative_ref: str = typer.Argument(..., metavar="ID"),
    fmt: str = typer.Option("pdf", "--format", help="docx (to edit) or pdf (to print)."),
    output: Path = typer.Option(..., "--output", help="File to write."),
) -> None:
    """Write an initiative's application for recognition (Circular 18/2013 form)."""
    if fmt not in FORMATS:
        fail(Text("cli.form_format_unknown", {"format": fmt}))
    settings = Settings()
    catalogs = Catalogs(zone=settings.tz)
    with database() as session:
        ref = initiative_ref.strip().lstrip("#")
        number = number_in(ref)
        found = session.get(Initiative, number) if number is not None else None
        if found is None:
            raise Refused("cli.initiative_unknown", ref=initiative_ref)
        form = forms.form_of(session=session, initiative=found)
    documents = form_pdf.form_documents(form, catalogs=catalogs, zone=settings.tz)
    content = documents[FORMATS.index(fmt)].content
    partial = output.with_name(f".{output.name}.part")
    try:
        partial.write_bytes(content)
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(Text("cli.form_unwritable", {"path": str(output), "error": error.strerror or error}))
    say(Text("cli.form_written", {"id": found.id, "path": str(output)}))


def unit_form(
    unit_ref: str = typer.Argument(..., metavar="UNIT"),
    template: Path | None = typer.Option(
        None,
        "--template",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A DOCX made from views/templates/application_form.docx: the unit's own form.",
    ),
    remove: bool = typer.Option(False, "--remove", help="Drop the unit's own template."),
    as_json: bool = JSON,
) -> None:
    """Show which form template a unit uses, give it its own (checked first), or remove it.

    A unit's template serves its whole subtree, except units below with their own."""
    settings = Settings()
    catalogs = Catalogs(zone=settings.tz)
    with database() as session:
        unit = units.find_unit(session=session, ref=unit_ref)
        if template is not None:
            content = template.read_bytes()
            if len(content) > forms.MAX_TEMPLATE_BYTES:
                raise Refused("form.template_too_large", limit=forms.MAX_TEMPLATE_BYTES // 1000)
            form_docx.check(content, catalogs=catalogs, zone=settings.tz)
            forms.set_template(
                session=session, unit=unit, content=content, file_name=template.name, now=utc_now()
            )
            said = Text("cli.form_template_set", {"unit": unit.name, "file": template.name})
            source: dict[str, object] = {"unit_id": unit.id, "file_name": template.name}
        elif remove:
            if not forms.remove_template(session=session, unit=unit):
                raise Refused("cli.form_template_none", unit=unit.name, source="-")
            said = Text("cli.form_template_removed", {"unit": unit.name})
            source = {"unit_id": unit.id, "removed": True}
        else:
            kept = forms.nearest_template(session=session, unit=unit)
            holder = unit_by_id(session=session, unit_id=kept.unit_id) if kept else None
            said = Text(
                "cli.form_template_none",
                {"unit": unit.name, "source": Text("cli.form_template_default", {})},
            )
            if kept is not None and kept.unit_id == unit.id:
                said = Text("cli.form_template_own", {"unit": unit.name, "file": kept.file_name})
            elif kept is not None and holder is not None:
                where = Text(
                    "cli.form_template_inherited", {"unit": holder.name, "file": kept.file_name}
                )
                said = Text("cli.form_template_none", {"unit": unit.name, "source": where})
            source = {
                "unit_id": unit.id,
                "template_unit_id": None if kept is None else kept.unit_id,
                "file_name": None if kept is None else kept.file_name,
            }
    emit(as_json, source, lambda: say(said))


def register(app: typer.Typer) -> None:
    """Add the form commands: `form ID` and `unit form UNIT`."""
    app.command("form")(form_command)
    unit_app.command("form")(unit_form)
