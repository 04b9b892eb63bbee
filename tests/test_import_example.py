"""The example member list and unit file import as the README says."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COMPANY = "Công đoàn cơ sở Công ty TNHH May mặc Quế Võ"


def test_the_example_list_imports_with_its_eight_mistakes_reported_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli = CliRunner(env={"DATABASE_URL": database_url, "DEFAULT_LANGUAGE": "en"})

    def run(*args: str) -> dict[str, object]:
        result = cli.invoke(app, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        parsed: dict[str, object] = json.loads(result.stdout)
        return parsed

    run("seed", str(EXAMPLES / "industrial-zone.yaml"))
    units = run("import", "units", str(EXAMPLES / "units.csv"), "--errors", "units.errors.csv")
    assert (units["created"], units["errors"]) == (3, 0)
    members = ["import", "members", str(EXAMPLES / "members.xlsx"), "--unit", COMPANY]
    report = ["--errors", str(tmp_path / "members.errors.csv")]
    first = run(*members, *report)
    assert (first["rows"], first["created"], first["errors"]) == (300, 292, 8)
    again = run(*members, *report)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 292)
    lines = (tmp_path / "members.errors.csv").read_text("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [
        "22",
        "43",
        "79",
        "92",
        "123",
        "153",
        "203",
        "233",
    ]
