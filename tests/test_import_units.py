"""`import units`: a unit tree from paths of names, created once, kinds given or guessed."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot import admin
from bot.cli import app
from storage.db import make_engine, reading
from storage.units import all_units, newest_invite_codes

TREE = """Đơn vị;Loại
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Công ty TNHH Điện tử A / Xưởng SMT 1;
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Công ty TNHH Điện tử A / Tổ bảo trì;
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Cụm thi đua số 1;
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Nhà máy B;enterprise
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Nhà máy B / Dây chuyền 3;tổ
Liên đoàn Lao động tỉnh Bắc Ninh //  Xưởng X;
Liên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Nhà máy C;giám đốc
 liên đoàn lao động tỉnh bắc ninh / kcn  yên phong ;
"""


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Return a runner of the real command line on the test database, in English."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    admin._catalogs.cache_clear()  # the language is read once a process
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    (tmp_path / "units.csv").write_text(TREE, encoding="utf-8")
    yield CliRunner()
    admin._catalogs.cache_clear()


def imported(cli: CliRunner, *extra: str) -> dict[str, Any]:
    result: Result = cli.invoke(
        app, ["import", "units", "units.csv", "--json", *extra], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def tree(database_url: str) -> list[tuple[str, str, int]]:
    """Return each unit's name, kind and depth, in tree order."""
    engine = make_engine(database_url)
    with reading(engine) as session:
        found = [(u.name, u.kind, u.path.count("/") - 2) for u in all_units(session=session)]
        codes = newest_invite_codes(session=session)
    engine.dispose()
    assert len(codes) == len(found)  # every unit can be joined
    return found


EXPECTED = [
    ("Liên đoàn Lao động tỉnh Bắc Ninh", "federation", 0),
    ("KCN Yên Phong", "zone_union", 1),
    ("Công ty TNHH Điện tử A", "enterprise", 2),
    ("Xưởng SMT 1", "workshop", 3),
    ("Tổ bảo trì", "team", 3),
    ("Cụm thi đua số 1", "cluster", 2),
    ("Nhà máy B", "enterprise", 2),
    ("Dây chuyền 3", "team", 3),
]


def test_paths_become_a_tree_with_kinds_given_or_guessed(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    summary = imported(cli)
    assert (summary["rows"], summary["created"], summary["unchanged"]) == (8, 5, 1)
    assert summary["errors"] == 2
    assert sorted(tree(database_url), key=EXPECTED.index) == EXPECTED
    report = (tmp_path / "units.errors.csv").read_text("utf-8-sig").splitlines()
    assert report[0] == "Row,Reason,Đơn vị,Loại"
    assert report[1].startswith("7,The unit path has an empty level")
    assert report[2].startswith('8,"Unknown unit kind “giám đốc”')


def test_the_same_file_again_creates_nothing(cli: CliRunner, database_url: str) -> None:
    imported(cli)
    before = tree(database_url)
    again = imported(cli)
    assert (again["created"], again["unchanged"], again["errors"]) == (0, 6, 2)
    assert tree(database_url) == before


def test_a_dry_run_counts_what_it_would_create_and_creates_nothing(
    cli: CliRunner, database_url: str
) -> None:
    dry = imported(cli, "--dry-run")
    assert (dry["created"], dry["unchanged"], dry["errors"]) == (5, 1, 2)
    assert tree(database_url) == []


def test_a_unit_that_exists_as_another_kind_is_reported_not_changed(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    imported(cli)
    (tmp_path / "units.csv").write_text(
        "Unit,Kind\nLiên đoàn Lao động tỉnh Bắc Ninh / KCN Yên Phong / Nhà máy B,workshop\n"
    )
    summary = imported(cli)
    assert summary["errors"] == 1
    assert ("Nhà máy B", "enterprise", 2) in tree(database_url)
