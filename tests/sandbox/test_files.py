"""Uploads, getFile and downloads, both from the bot and from users."""

import json

from aiohttp import ClientSession, FormData

from sandbox.client import SandboxClient
from tests.sandbox.conftest import TOKEN, USER, BotApi

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") * 2 + b"rest"


async def download(http: ClientSession, base_url: str, file_path: str) -> bytes:
    async with http.get(f"{base_url}/file/bot{TOKEN}/{file_path}") as response:
        assert response.status == 200
        return await response.read()


async def test_uploaded_document_round_trips_through_get_file(
    api: BotApi, users: SandboxClient, http: ClientSession, sandbox_url: str
) -> None:
    await users.send_text(USER, "/start")
    form = FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("caption", "Report")
    form.add_field("document", "attach://file0")  # aiogram's way of naming uploads
    form.add_field("file0", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
    status, body = await api.form("sendDocument", form)
    assert status == 200, body
    document = body["result"]["document"]
    assert document["file_name"] == "report.csv" and document["mime_type"] == "text/csv"
    assert body["result"]["caption"] == "Report"
    file = await api.result("getFile", file_id=document["file_id"])
    assert file["file_size"] == 8
    assert await download(http, sandbox_url, file["file_path"]) == b"a,b\n1,2\n"
    [seen] = await users.messages(USER)
    assert seen["document"] == document["file_id"]


async def test_photo_uploaded_under_its_own_field_and_resent_by_file_id(
    api: BotApi, users: SandboxClient
) -> None:
    await users.set_limits(private_per_second=0)
    await users.send_text(USER, "/start")
    form = FormData()
    form.add_field("chat_id", str(USER))
    form.add_field(
        "reply_markup", json.dumps({"inline_keyboard": [[{"text": "Ok", "url": "https://x.org"}]]})
    )
    form.add_field("photo", PNG, filename="chart.png", content_type="image/png")  # PTB's way
    status, body = await api.form("sendPhoto", form)
    assert status == 200, body
    [size] = body["result"]["photo"]
    assert (size["width"], size["height"]) == (64, 64)
    again = await api.result("sendPhoto", chat_id=USER, photo=size["file_id"])
    assert again["photo"][0]["file_id"] == size["file_id"]


async def test_user_photo_can_be_fetched_by_the_bot(
    api: BotApi, users: SandboxClient, http: ClientSession, sandbox_url: str
) -> None:
    update = await users.send_photo(USER, PNG, caption="Broken valve")
    message = update["message"]
    assert message["caption"] == "Broken valve"
    file = await api.result("getFile", file_id=message["photo"][-1]["file_id"])
    assert await download(http, sandbox_url, file["file_path"]) == PNG


async def test_user_document_keeps_its_name(users: SandboxClient) -> None:
    update = await users.send_document(USER, b"%PDF-1.4", "plan.pdf", mime_type="application/pdf")
    document = update["message"]["document"]
    assert document["file_name"] == "plan.pdf"
    assert await users.file(document["file_id"]) == b"%PDF-1.4"


async def test_unknown_file_id_is_refused(api: BotApi) -> None:
    status, body = await api.call("getFile", file_id="nope")
    assert (status, body["description"]) == (400, "Bad Request: invalid file_id")
