"""Kept files at unguessable, expiring URLs, for messengers that fetch pictures by URL.

Zalo's `sendPhoto` takes a URL, not bytes: the bot serves the file itself, under
`PUBLIC_BASE_URL` (a reverse proxy in front of `PUBLIC_FILES_LISTEN`). A URL names the
kept file's key and an expiry, signed with HMAC-SHA256; a wrong signature, an expired
URL or a key that names nothing all get the same 404, so a URL cannot be guessed or
kept alive, and nothing tells a prober which files exist.
"""

import hashlib
import hmac
import logging
import mimetypes
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from core.settings import Settings
from storage.files import FileStore, UnknownFile

logger = logging.getLogger(__name__)
SECRET_FILE = ".public-files-secret"
SECRET_BYTES = 32
ROUTE = "/files/{key}/{expires}/{signature}"


def shared_secret(files_dir: Path) -> bytes:
    """Return the signing secret kept beside the files (made once, readable by the owner
    only), so that every bot process on the host signs and checks alike.

    It is written aside and linked into place whole, so a crash or a full disk never
    leaves an empty or short secret to sign with; one left by an older version is
    replaced. Of two processes making it at once, the first to link wins.
    """
    path = files_dir / SECRET_FILE
    files_dir.mkdir(parents=True, exist_ok=True)
    try:
        secret: bytes | None = path.read_bytes()
    except FileNotFoundError:
        secret = None
    if secret is not None and len(secret) >= SECRET_BYTES:
        return secret
    handle, made = tempfile.mkstemp(dir=files_dir, prefix=".secret-")  # owner-only
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(secrets.token_bytes(SECRET_BYTES))
            file.flush()
            os.fsync(file.fileno())
        if secret is not None:  # short: a write cut off before this version
            logger.warning("the signing secret was cut short; made a new one")
            os.replace(made, path)
        else:
            with suppress(FileExistsError):
                os.link(made, path)
    finally:
        Path(made).unlink(missing_ok=True)
    secret = path.read_bytes()
    if len(secret) < SECRET_BYTES:
        raise RuntimeError(f"{path} holds no usable signing secret")
    return secret


class PublicFiles:
    """Sign URLs of kept files, and serve what a signed URL names until it expires."""

    def __init__(
        self,
        store: FileStore,
        base_url: str,
        secret: bytes,
        clock: Callable[[], datetime],
        ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.clock = clock
        self.ttl = ttl

    def url(self, key: str) -> str:
        """Return a URL that serves the kept file `key` for the next `ttl`."""
        expires = int((self.clock() + self.ttl).timestamp())
        return f"{self.base_url}/files/{key}/{expires}/{self._signature(key, expires)}"

    def _signature(self, key: str, expires: int) -> str:
        message = f"{key}/{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        """Answer a signed URL with its file, anything else with 404."""
        key = request.match_info["key"]
        try:
            expires = int(request.match_info["expires"])
        except ValueError:
            raise web.HTTPNotFound() from None
        wanted = self._signature(key, expires)
        if not hmac.compare_digest(wanted, request.match_info["signature"]):
            raise web.HTTPNotFound()
        if expires < self.clock().timestamp():
            raise web.HTTPNotFound()
        try:
            path = self.store.path(key)
        except UnknownFile:
            raise web.HTTPNotFound() from None
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": content_type})

    def app(self) -> web.Application:
        """Build the HTTP application that serves signed URLs."""
        app = web.Application()
        app.router.add_get(ROUTE, self.serve_file)
        return app


@asynccontextmanager
async def serving(public: PublicFiles, listen: str) -> AsyncIterator[str]:
    """Serve signed URLs on `listen` (host:port; port 0 picks one) while the block runs;
    yield the address it listens on."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(public.app(), access_log=None)  # URLs are secrets: not logged
    await runner.setup()
    try:
        site = web.TCPSite(runner, host or "127.0.0.1", int(port))
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        logger.info("serving kept files for %s on %s:%s", public.base_url, bound_host, bound_port)
        yield f"{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


def from_settings(settings: Settings, clock: Callable[[], datetime]) -> PublicFiles | None:
    """Build the signer the settings describe; None without PUBLIC_BASE_URL."""
    if not settings.public_base_url:
        return None
    return PublicFiles(
        FileStore(settings.files_dir),
        settings.public_base_url,
        shared_secret(settings.files_dir),
        clock,
        timedelta(hours=settings.public_file_ttl_hours),
    )
