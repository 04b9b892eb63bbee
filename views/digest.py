"""How a digest reads in chat: one message with its numbers, and a chart."""

from datetime import timedelta, tzinfo

from core.messages import Lines, Money, Number, OutDocument, Reply, Text, t
from locales import Catalogs
from services import campaigns
from services.digests import Digest
from views.charts import DigestChart, draw


def digest_text(digest: Digest, zone: tzinfo) -> Text:
    """Build the digest's text: counts, benefit, campaigns, leading units, top initiatives."""
    totals = digest.totals
    running = tuple(
        t("digest.campaign", name=c.name, progress=campaigns.progress_text(c, progress))
        for c, progress in digest.campaigns
    )
    units = tuple(
        t("digest.unit_line", rank=i, unit=unit.name, new=Number(counts.new))
        for i, (unit, counts) in enumerate(digest.units, start=1)
        if counts.new
    )
    top = tuple(
        t(
            "digest.top_line",
            id=item.id,
            title=t("digest.confidential") if item.confidential else item.title or "",
            unit=item.unit,
            vnd=Money(item.verified_vnd),
        )
        for item in digest.top
    )
    return t(
        "digest.text",
        unit=digest.scope.name,
        start=digest.start.astimezone(zone).date(),
        end=(digest.end - timedelta(microseconds=1)).astimezone(zone).date(),
        new=Number(totals.new),
        approved=Number(totals.approved),
        rejected=Number(totals.rejected),
        pending=Number(totals.pending),
        overdue=Number(totals.overdue),
        estimated=Money(totals.estimated_vnd),
        verified=Money(totals.verified_vnd),
        campaigns=Lines(running) if running else t("digest.none"),
        units=Lines(units) if units else t("digest.none"),
        top=Lines(top) if top else t("digest.none"),
    )


def digest_chart(digest: Digest, catalogs: Catalogs, language: str) -> DigestChart:
    """Return what the digest's chart shows, its titles in `language`."""
    return DigestChart(
        days=tuple(digest.daily),
        units=tuple((unit.name, counts.new) for unit, counts in digest.units),
        over_time=catalogs.render(t("digest.chart_over_time"), language),
        by_unit=catalogs.render(t("digest.chart_by_unit"), language),
    )


def with_chart(digest: Digest, zone: tzinfo, png: bytes) -> Reply:
    """Return the digest as a reply with its chart, drawn already."""
    return Reply(digest_text(digest, zone), documents=(OutDocument("digest.png", png),))


def digest_reply(digest: Digest, catalogs: Catalogs, language: str, zone: tzinfo) -> Reply:
    """Return the digest as a reply with its chart, drawn here (labels in `language`)."""
    return with_chart(digest, zone, draw(digest_chart(digest, catalogs, language)))
