"""The firmware's auto-provisioning run: which files it asks for, in what order (§4.1, §4.7)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from tests.support.yealink_phone.catalog import Generation, model_code
from tests.support.yealink_phone.cfgfile import BootFile, CfgFile, Rejected, parse_boot, parse_cfg
from tests.support.yealink_phone.httpauth import answer_challenge

COMMON_BOOT = "y000000000000.boot"


@dataclass
class Fetch:
    """One download of the provisioning run, as the tests see it."""

    url: str
    name: str
    """The file name as the phone asked for it (or the include as written in the boot file)."""
    status: int | None
    md5: str | None = None
    error: str | None = None
    """Transport failure, or why the phone rejected the file."""
    ignored_lines: list[str] = field(default_factory=list)
    unchanged: bool = False
    """Same MD5 as this URL's previous download."""
    applied: bool = False
    at: float = field(default_factory=time.time)


@dataclass
class Run:
    fetches: list[Fetch]
    files: list[tuple[Fetch, CfgFile]]
    """The cfg files to apply, in order."""
    overwrite_mode: bool


class PhoneAuth(httpx.Auth):
    """Answers a Digest or Basic challenge with the provisioning credentials; like the phone, it
    sends nothing until challenged."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code != 401 or not self.username:
            return
        value = answer_challenge(
            response.headers.get_list("www-authenticate"),
            request.method,
            request.url.raw_path.decode("ascii"),
            self.username,
            self.password,
        )
        if value is None:
            return
        request.headers["Authorization"] = value
        yield request


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """`http://u:p@host/cfg` → (`http://host/cfg/`, u, p): the server URL may carry them (§4.6).
    The URL names a directory; the phone adds the file name after a slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, parts.query, "")), parts.username, parts.password


class Provisioner:
    def __init__(
        self,
        base_url: str,
        *,
        mac: str,
        model: str,
        generation: Generation,
        user_agent: str,
        username: str,
        password: str,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url
        self.mac = mac
        self.model = model
        self.generation = generation
        self.client = httpx.Client(
            auth=PhoneAuth(username, password),
            headers={"User-Agent": user_agent},
            timeout=timeout,
            follow_redirects=True,
            trust_env=False,  # a phone knows nothing of this machine's proxy variables
        )

    def close(self) -> None:
        self.client.close()

    def run(self) -> Run:
        run = Run(fetches=[], files=[], overwrite_mode=False)
        common_cfg = f"y000000000{model_code(self.model)}.cfg"
        mac_cfg = f"{self.mac}.cfg"
        if self.generation == "v8x":
            boot = self._boot(run, f"{self.mac}.boot") or self._boot(run, COMMON_BOOT)
            if boot is not None:
                boot_fetch, boot_file = boot
                run.overwrite_mode = boot_file.overwrite_mode
                for include in boot_file.includes:
                    self._cfg(run, include, base=boot_fetch.url)
                return run
        self._cfg(run, common_cfg, base=self.base_url)
        self._cfg(run, mac_cfg, base=self.base_url)
        return run

    def _get(self, run: Run, name: str, base: str) -> tuple[Fetch, bytes | None]:
        url = urljoin(base, name)
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            fetch = Fetch(url=url, name=name, status=None, error=f"{type(error).__name__}: {error}")
            run.fetches.append(fetch)
            return fetch, None
        fetch = Fetch(url=url, name=name, status=response.status_code)
        run.fetches.append(fetch)
        if response.status_code != 200:
            return fetch, None
        fetch.md5 = hashlib.md5(response.content).hexdigest()
        return fetch, response.content

    def _boot(self, run: Run, name: str) -> tuple[Fetch, BootFile] | None:
        # Any failure (404, auth refused, a bad header) sends the phone on to its next choice.
        fetch, body = self._get(run, name, self.base_url)
        if body is None:
            return None
        try:
            boot = parse_boot(body)
        except Rejected as error:
            fetch.error = str(error)
            return None
        fetch.ignored_lines = boot.ignored
        return fetch, boot

    def _cfg(self, run: Run, name: str, *, base: str) -> None:
        fetch, body = self._get(run, name, base)
        if body is None:
            return
        try:
            cfg = parse_cfg(body)
        except Rejected as error:
            fetch.error = str(error)
            return
        fetch.ignored_lines = cfg.ignored
        run.files.append((fetch, cfg))
