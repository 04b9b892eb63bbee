"""The command line as an operator and a worker use it: most commands in this process
(Typer's runner), a worker's conversation and a SIGKILL in real processes."""

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot import admin
from bot.cli import app
from locales import Catalogs
from storage.db import make_engine
from storage.models import Attachment, ConversationState, Initiative, Member, Role

ROOT = Path(__file__).resolve().parent.parent
VI = Catalogs()


@dataclass
class Ran:
    """What a command printed and how it ended."""

    stdout: str
    stderr: str
    returncode: int


def cli(
    database_url: str,
    cwd: Path,
    *args: str,
    stdin: str = "",
    check: bool = True,
    process: bool = False,
) -> Ran:
    """Run `initiative-bot ARGS` against the test database: in this process (Typer's
    runner, ~10x quicker than starting Python), or with `process` in a fresh one."""
    if process:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=120,
            env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        )
        result = Ran(done.stdout, done.stderr, done.returncode)
    else:
        with contextlib.chdir(cwd):
            ran = CliRunner().invoke(
                app, list(args), input=stdin, env={"DATABASE_URL": database_url}
            )
        if ran.exception is not None and not isinstance(ran.exception, SystemExit):
            raise ran.exception
        result = Ran(ran.stdout, ran.stderr, ran.exit_code)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def add_unit(database_url: str, cwd: Path, name: str, *extra: str) -> dict[str, object]:
    out = cli(database_url, cwd, "unit", "add", name, "--json", *extra).stdout
    data: dict[str, object] = json.loads(out)
    return data


def test_scripted_vietnamese_conversation_exports_one_complete_initiative(
    database_url: str, tmp_path: Path
) -> None:
    unit = add_unit(database_url, tmp_path, "Xưởng SMT 1", "--kind", "workshop")
    (tmp_path / "jig.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    (tmp_path / "tinh-toan.pdf").write_bytes(b"%PDF-1.4 calculation")
    script = (
        "\n".join(
            [
                f"/start {unit['invite_code']}",
                "1",  # Tiếng Việt
                "1",  # Đồng ý
                "/new",
                "Đồ gá thay khuôn nhanh",
                "Thay khuôn máy ép mất 45 phút mỗi lần, dây chuyền phải dừng",
                "Chế tạo đồ gá định vị để thay khuôn trong 10 phút",
                VI.template("field.technical", "vi"),  # the label text, not the number
                "khoảng 1,5 tỷ/năm",
                "2",  # thêm chi tiết
                "Giảm 35 phút dừng máy mỗi lần thay khuôn",
                "2",  # cùng người khác
                "Trần Thị Bình 30%",
                "Lê Văn Cường 20%",
                "/done",
                "2",  # đã áp dụng
                "15/03/2026",
                "/skip",  # what applying it needs
                "/skip",  # who took part in applying it
                f"/photo {tmp_path / 'jig.jpg'}",
                f"/file {tmp_path / 'tinh-toan.pdf'}",
                "/done",
                "1",  # không bí mật
                "1",  # gửi
            ]
        )
        + "\n"
    )
    chat = cli(
        database_url,
        tmp_path,
        *("chat", "--user", "5001", "--name", "Nguyễn Văn An"),
        stdin=script,
        process=True,  # as a worker runs it
    )
    assert VI.render(VI.template("wizard.submitted", "vi").split("{")[0], "vi") in chat.stdout
    assert "Traceback" not in chat.stderr

    exported = cli(database_url, tmp_path, "export", "--format", "csv").stdout
    assert exported.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "Đồ gá thay khuôn nhanh"
    assert row["unit"] == "Xưởng SMT 1"
    assert row["authors"] == "Nguyễn Văn An:50; Trần Thị Bình:30; Lê Văn Cường:20"
    assert sum(int(a.rsplit(":", 1)[1]) for a in row["authors"].split("; ")) == 100
    assert row["field"] == "technical"
    assert row["estimated_benefit_vnd"] == "1500000000"
    assert (row["status"], row["confidential"]) == ("submitted", "no")
    assert row["submitted_at"].endswith("+00:00")

    engine = make_engine(database_url)
    with Session(engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert isinstance(initiative.estimated_benefit_vnd, int)
        assert initiative.problem and initiative.problem.startswith("Thay khuôn máy ép")
        assert initiative.solution and initiative.solution.startswith("Chế tạo đồ gá")
        assert initiative.other_effects == "Giảm 35 phút dừng máy mỗi lần thay khuôn"
        assert str(initiative.first_applied_on) == "2026-03-15"
        files = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
        assert [(f.kind, f.file_name) for f in files] == [
            ("photo", "jig.jpg"),
            ("document", "tinh-toan.pdf"),
        ]
        assert session.exec(select(Member)).one().language == "vi"
    engine.dispose()


def test_sigkill_mid_wizard_then_a_new_chat_resumes_the_same_step(
    database_url: str, tmp_path: Path
) -> None:
    unit = add_unit(database_url, tmp_path, "Xưởng may 1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "7", "--name", "Phạm Thị Dung"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdin is not None
    for line in [
        f"/start {unit['invite_code']}",
        "1",
        "1",
        "/new",
        "Băng tải tự động",
        "Công nhân phải bê thùng hàng nặng giữa hai dây chuyền",
    ]:
        process.stdin.write(line + "\n")
    process.stdin.flush()
    engine = make_engine(database_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Session(engine) as session:
            draft = session.exec(select(Initiative)).first()
            if draft is not None and draft.problem:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdin.close()
    assert process.stderr is not None
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    with Session(engine) as session:
        state = session.exec(select(ConversationState)).one()
        assert state.step == "wizard.solution"

    resumed = cli(database_url, tmp_path, "chat", "--user", "7", stdin="/continue\n")
    assert VI.template("wizard.ask_solution", "vi") in resumed.stdout
    cli(
        database_url,
        tmp_path,
        "chat",
        "--user",
        "7",
        stdin="Lắp băng tải con lăn giữa hai dây chuyền\n",
    )
    with Session(engine) as session:
        draft = session.exec(select(Initiative)).one()
        assert draft.title == "Băng tải tự động"
        assert draft.problem == "Công nhân phải bê thùng hàng nặng giữa hai dây chuyền"
        assert draft.solution == "Lắp băng tải con lăn giữa hai dây chuyền"
        assert draft.status == "draft"
        assert session.exec(select(ConversationState)).one().step == "wizard.field"
    engine.dispose()


def test_unit_tree_invites_and_grants(database_url: str, tmp_path: Path) -> None:
    top = add_unit(database_url, tmp_path, "Công ty Điện tử A")
    shop = add_unit(
        database_url, tmp_path, "Xưởng 2", "--parent", str(top["id"]), "--kind", "workshop"
    )
    code = str(shop["invite_code"])
    assert len(code) == 12 and code != top["invite_code"]
    listed = json.loads(cli(database_url, tmp_path, "unit", "list", "--json").stdout)
    assert [(u["name"], u["parent_id"], u["depth"]) for u in listed] == [
        ("Công ty Điện tử A", None, 0),
        ("Xưởng 2", top["id"], 1),
    ]
    same = json.loads(cli(database_url, tmp_path, "unit", "invite", "Xưởng 2", "--json").stdout)
    assert same["invite_code"] == code
    new = json.loads(
        cli(database_url, tmp_path, "unit", "invite", str(shop["id"]), "--revoke", "--json").stdout
    )
    assert new["invite_code"] != code

    old = cli(database_url, tmp_path, "chat", "--user", "9", stdin=f"/start {code}\n").stdout
    assert VI.template("onboarding.code_revoked", "vi") in old
    cli(
        database_url,
        tmp_path,
        "chat",
        "--user",
        "9",
        "--name",
        "Hoa",
        stdin=f"/start {new['invite_code']}\n1\n1\n",
    )
    granted = cli(
        database_url,
        tmp_path,
        "member",
        "grant",
        "console:9",
        "reviewer",
        "--unit",
        str(top["id"]),
        "--json",
    )
    assert json.loads(granted.stdout)["role"] == "reviewer"
    engine = make_engine(database_url)
    with Session(engine) as session:
        roles = {(r.role, r.unit_id) for r in session.exec(select(Role)).all()}
        assert roles == {("worker", shop["id"]), ("reviewer", top["id"])}
    engine.dispose()

    unknown = cli(
        database_url,
        tmp_path,
        "member",
        "grant",
        "console:404",
        "reviewer",
        "--unit",
        str(top["id"]),
        check=False,
    )
    assert unknown.returncode == 1 and "console:404" in unknown.stderr
    bad_role = cli(
        database_url,
        tmp_path,
        "member",
        "grant",
        "console:9",
        "king",
        "--unit",
        str(top["id"]),
        check=False,
    )
    assert bad_role.returncode == 1 and "king" in bad_role.stderr
    revoke = ("member", "revoke", "console:9", "reviewer", "--unit", str(top["id"]))
    assert json.loads(cli(database_url, tmp_path, *revoke, "--json").stdout)["revoked"]
    again = cli(database_url, tmp_path, *revoke, check=False)
    assert again.returncode == 1 and "reviewer" in again.stderr
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert {r.role for r in session.exec(select(Role)).all()} == {"worker"}
    engine.dispose()
    policy = ("unit", "reward", str(top["id"]))
    shown = json.loads(cli(database_url, tmp_path, *policy, "--json").stdout)
    assert (shown["rate_percent"], shown["base_wage_vnd"]) == (7, None)  # the law's minimum
    set_ = cli(database_url, tmp_path, *policy, "--rate", "10", "--base-wage", "2340000")
    assert "10%" in set_.stdout and "2.340.000" in set_.stdout
    wrong = cli(database_url, tmp_path, *policy, "--rate", "0", check=False)
    assert wrong.returncode == 1 and "100" in wrong.stderr
    missing = cli(database_url, tmp_path, "unit", "invite", "Không có", check=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


def test_seed_loads_the_example_tree_once(database_url: str, tmp_path: Path) -> None:
    example = ROOT / "examples" / "industrial-zone.yaml"
    first = json.loads(cli(database_url, tmp_path, "seed", str(example), "--json").stdout)
    again = json.loads(cli(database_url, tmp_path, "seed", str(example), "--json").stdout)
    assert len(first) == len(again) >= 20
    assert all(u["created"] for u in first) and not any(u["created"] for u in again)
    assert [u["invite_code"] for u in first] == [u["invite_code"] for u in again]
    kinds = {u["kind"] for u in first}
    assert {
        "federation",
        "zone_union",
        "management_board",
        "cluster",
        "enterprise",
        "workshop",
    } <= kinds
    bad = tmp_path / "bad.yaml"
    bad.write_text("units: [ {kind: workshop} ]", "utf-8")
    result = cli(database_url, tmp_path, "seed", str(bad), check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_export_filters_by_subtree_and_defuses_formulas(database_url: str, tmp_path: Path) -> None:
    top = add_unit(database_url, tmp_path, "Công ty B")
    shop = add_unit(database_url, tmp_path, "Xưởng B1", "--parent", str(top["id"]))
    other = add_unit(database_url, tmp_path, "Công ty C")
    formulas = ['=HYPERLINK("http://x")', "+1+1", "@SUM(A1)"]
    people = [(str(n), shop, f) for n, f in enumerate(formulas)] + [("9", other, "Công ty C")]
    # Unlike one another, so that no submission stops to show the others as similar.
    subjects = ["khuôn ép", "băng tải", "máy nén khí", "lò sấy"]
    for (user, unit, title), subject in zip(people, subjects, strict=True):
        script = [
            f"/start {unit['invite_code']}",
            "1",
            "1",
            "/new",
            title + " dài hơn",
            f"Sự cố {subject} hiện tại",
            f"Thay thế {subject} cũ",
            "7",
            "/skip",
            "1",
        ]
        cli(
            database_url,
            tmp_path,
            "chat",
            "--user",
            user,
            "--name",
            "Tên " + user,
            stdin="\n".join(script) + "\n",
        )
    out = tmp_path / "export.csv"
    cli(database_url, tmp_path, "export", "--unit", str(top["id"]), "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [r["unit"] for r in rows] == ["Xưởng B1"] * 3
    assert [r["title"] for r in rows] == [f"'{f} dài hơn" for f in formulas]
    assert {(r["estimated_benefit_vnd"], r["field"]) for r in rows} == {("", "other")}
    everything = cli(database_url, tmp_path, "export").stdout
    assert len(list(csv.DictReader(io.StringIO(everything.removeprefix("\ufeff"))))) == 4


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Run the command line in this process, with no messenger configured and no .env."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "ZALO_")) or name == "DEFAULT_LANGUAGE":
            monkeypatch.delenv(name)
    admin._catalogs.cache_clear()  # the language is read once a process
    yield CliRunner()
    admin._catalogs.cache_clear()


TOKENS = {"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 35, "ZALO_BOT_TOKEN": "1459232:zalo-secret"}
REFUSED_RUNS = [
    ([], {}, "cli.no_channel"),
    (["--webhook", "https://bot.example.org/tg"], TOKENS, "cli.webhook_secret_missing"),
    (["--zalo-webhook", "https://bot.example.org/z"], TOKENS, "cli.zalo_webhook_secret_missing"),
]


@pytest.mark.parametrize("language", ["vi", "en", "id"])
def test_run_without_a_messenger_or_a_webhook_secret_says_what_to_set(
    operator: CliRunner, language: str
) -> None:
    for args, env, key in REFUSED_RUNS:
        result = operator.invoke(app, ["run", *args], env={"DEFAULT_LANGUAGE": language, **env})
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == VI.template(key, language)
    no_channel = VI.template("cli.no_channel", language)
    assert "TELEGRAM_BOT_TOKEN" in no_channel and "ZALO_BOT_TOKEN" in no_channel


def test_chat_start_sends_the_code_first_and_welcomes_back_the_next_time(
    database_url: str, tmp_path: Path
) -> None:
    unit = add_unit(database_url, tmp_path, "Xưởng SMT 1", "--kind", "workshop")
    start = ("chat", "--user", "42", "--name", "An", "--start", str(unit["invite_code"]))
    first = cli(database_url, tmp_path, *start, stdin="1\n1\n").stdout
    assert first.startswith(f"> /start {unit['invite_code']}\n")
    assert VI.template("onboarding.ask_language", "vi").split("{")[0] in first
    assert "Xưởng SMT 1" in first  # joined: the welcome names the unit
    again = cli(database_url, tmp_path, *start, stdin="").stdout
    assert VI.template("onboarding.welcome_back", "vi").split("{")[0] in again


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ZALO_WEBHOOK_SECRET", "short-1"), ("TELEGRAM_RATE_PER_SECOND", "ten-a-second")],
)
def test_a_bad_setting_is_named_in_the_operators_language_and_its_value_never_shown(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    ran = cli(database_url, tmp_path, "unit", "list", check=False, process=True)
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.startswith(f"A setting is not valid: {variable} — ")
    assert value not in ran.stderr and "Traceback" not in ran.stderr
