"""The console channel: what it keeps of the files it is given."""

from pathlib import Path

from bot.app import Core
from tests.conftest import Chat, join


def test_a_photo_where_text_is_asked_leaves_no_file_behind(
    core: Core, unit_id: int, chat: Chat, tmp_path: Path
) -> None:
    photo = tmp_path / "jig.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    me = chat("c1")
    join(me)
    me.send("/new")
    store = core.settings.files_dir
    answer = me.send(f"/photo {photo}")
    assert "Máy" not in answer and answer  # the title question again
    assert not store.exists() or list(store.iterdir()) == []
    for line in (
        "Máy dán nhãn tự động",
        "Công nhân dán nhãn bằng tay, mất nhiều thời gian",
        "Lắp cảm biến và cơ cấu dán nhãn tự động",
        "1",
        "100 triệu",
        "2",  # add details
        "/skip",
        "1",  # alone
        "1",  # not applied yet
    ):
        me.send(line)
    me.send(f"/photo {photo}")
    assert len(list(store.iterdir())) == 1  # kept: an attachment refers to it
