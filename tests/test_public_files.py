"""Kept files, and the signed, expiring URLs a messenger fetches them from (over HTTP)."""

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.channels.public_files import PublicFiles, serving, shared_secret
from storage.files import FileStore, UnknownFile
from tests.conftest import Clock

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def test_the_same_bytes_are_kept_once_under_their_content_key(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    key = store.put(PNG, ".png")
    assert store.put(PNG, ".PNG") == key and key.endswith(".png") and len(key) == 68
    assert store.read(key) == PNG
    assert [p.name for p in (tmp_path / "kept").iterdir()] == [key]  # no part file left
    assert store.put(b"other", ".jpg") != key
    store.remove(key)
    with pytest.raises(UnknownFile):
        store.read(key)


@pytest.mark.parametrize("key", ["../secret", "a" * 64 + "/x", "A" * 64, "", "a" * 63])
def test_a_key_that_is_not_a_content_key_names_nothing(tmp_path: Path, key: str) -> None:
    (tmp_path / "secret").write_text("not to be served")
    with pytest.raises(UnknownFile):
        FileStore(tmp_path).path(key)


def test_a_suffix_that_could_name_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FileStore(tmp_path).put(PNG, "/../x")


def test_the_signing_secret_is_made_once_and_readable_by_the_owner_only(tmp_path: Path) -> None:
    first = shared_secret(tmp_path)
    assert shared_secret(tmp_path) == first and len(first) == 32
    mode = (tmp_path / ".public-files-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


async def test_a_signed_url_serves_its_file_until_it_expires(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 1, tzinfo=UTC))
    store = FileStore(tmp_path)
    key = store.put(PNG, ".png")
    public = PublicFiles(store, "http://placeholder", b"k" * 32, clock, timedelta(hours=1))
    async with serving(public, "127.0.0.1:0") as address, ClientSession() as http:
        public.base_url = f"http://{address}"
        url = public.url(key)
        async with http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/png"
            assert await response.read() == PNG
        head, _, signature = url.rpartition("/")
        forged = [
            f"{head}/{'0' * 32}",  # another signature
            url.replace(key, store.put(b"other", ".png")),  # another file, same signature
            f"{public.base_url}/files/{key}/9999999999/{signature}",  # a later expiry
            f"{public.base_url}/files/{key}/soon/{signature}",
        ]
        for wrong in forged:
            async with http.get(wrong) as response:
                assert response.status == 404, wrong
        clock.advance(minutes=59)
        async with http.get(url) as response:
            assert response.status == 200
        clock.advance(minutes=2)
        async with http.get(url) as response:
            assert response.status == 404  # expired
        store.remove(key)
        async with http.get(public.url(key)) as response:
            assert response.status == 404  # signed, but no longer kept


def test_a_signing_secret_cut_short_by_a_crash_is_made_anew(tmp_path: Path) -> None:
    """Signing with an empty key would let anyone make a URL that works."""
    (tmp_path / ".public-files-secret").write_bytes(b"")  # created, then the disk was full
    secret = shared_secret(tmp_path)
    assert len(secret) == 32 and shared_secret(tmp_path) == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == [".public-files-secret"]
    assert stat.S_IMODE((tmp_path / ".public-files-secret").stat().st_mode) == 0o600
