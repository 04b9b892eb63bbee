"""The recognition certificate: one A4 page per author, sent with the approval notice.

It is drawn in the author's language when the council approves (the notice itself is
rendered when it is sent): who, which initiative, at what level, by which council, when,
and the verified benefit. It certifies what the bot recorded; the council's signed
decision remains the legal act, and the page says so.
"""

from datetime import tzinfo

from core.messages import Money, OutDocument, Text, t
from locales import Catalogs
from services.levels import LEVEL_LABELS
from storage.models import Author, Initiative, Member, Unit
from views.pdf_fonts import FAMILY, new_pdf

MARGIN = 12  # mm from the page's edge to the outer frame


def for_author(
    *,
    initiative: Initiative,
    council: Unit,
    author: Author,
    member: Member,
    catalogs: Catalogs,
    zone: tzinfo,
) -> OutDocument:
    """Return an author's certificate of a recognized initiative, in their language."""
    language = member.language

    def say(text: Text) -> str:
        return catalogs.render(text, language)

    decided = initiative.decided_at or initiative.updated_at
    benefit = initiative.verified_benefit_vnd
    lines = (
        t(
            "certificate.level",
            level=LEVEL_LABELS.get(initiative.level or "", t("card.not_given")),
        ),
        t("certificate.benefit", benefit=Money(benefit))
        if benefit
        else t("certificate.no_benefit"),
        t("certificate.council", unit=council.name),
        t("certificate.date", day=decided.astimezone(zone).date()),
        t("certificate.number", id=initiative.id or 0),
    )
    pdf = new_pdf()
    pdf.set_title(say(t("certificate.heading")))
    pdf.add_page(orientation="landscape")
    pdf.set_auto_page_break(False)
    width, height = pdf.w, pdf.h
    pdf.set_line_width(1.2)
    pdf.rect(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN)
    pdf.set_line_width(0.3)
    pdf.rect(MARGIN + 3, MARGIN + 3, width - 2 * MARGIN - 6, height - 2 * MARGIN - 6)
    inner = width - 2 * (MARGIN + 12)
    pdf.set_xy(MARGIN + 12, MARGIN + 10)

    def centered(text: str, size: float, style: str = "", gap: float = 2) -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.set_x(MARGIN + 12)
        pdf.multi_cell(inner, size * 0.5, text, align="C")
        pdf.ln(gap)

    centered(say(t("certificate.country")), 11, "B", 8)
    centered(say(t("certificate.heading")), 26, "B", 6)
    centered(say(t("certificate.certifies")), 13, "", 2)
    centered(author.name or member.display_name, 22, "B", 3)
    centered(say(t("certificate.authored", share=author.share_percent)), 13, "", 2)
    centered(f"«{initiative.title or ''}»", 17, "B", 6)
    for line in lines:
        centered(say(line), 12, "", 1)
    pdf.set_y(height - MARGIN - 22)
    centered(say(t("certificate.note")), 8.5, "I", 0)
    return OutDocument(say(t("certificate.file_name", id=initiative.id or 0)), bytes(pdf.output()))
