"""The phone without its keys: provisioning, registration, Action URL firing, call lookup."""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Self, cast

from tests.support.yealink_phone.action_url import ActionUrlRecord, Sender, build_url
from tests.support.yealink_phone.calldata import Account, Call, Device, Forward, variables
from tests.support.yealink_phone.catalog import (
    GENERATIONS,
    Generation,
    action_url_key,
    canonical_event,
    model_code,
    normalize_mac,
    user_agent,
)
from tests.support.yealink_phone.cfgfile import PhoneConfig
from tests.support.yealink_phone.provisioning import Fetch, Provisioner, Run, split_credentials
from tests.support.yealink_phone.servlet import ActionUriServer, ServletRequest

if TYPE_CHECKING:
    from tests.support.yealink_phone.phone import YealinkPhone

_ACCOUNT_KEY = re.compile(r"account\.(\d+)\.")


class PhoneCore:
    """State, provisioning and Action URL firing; `YealinkPhone` adds what a person does."""

    def __init__(
        self,
        mac: str,
        *,
        provisioning_url: str,
        username: str | None = None,
        password: str | None = None,
        model: str = "T46S",
        firmware: str = "66.86.0.15",
        generation: Generation = "v8x",
        ip: str = "127.0.0.1",
        web_port: int = 0,
        basic: bool = False,
        register_ok: bool = True,
        unresponsive: bool = False,
        action_url_timeout: float = 5.0,
    ) -> None:
        if generation not in GENERATIONS:
            raise ValueError(f"generation must be one of {GENERATIONS}, not {generation!r}")
        model_code(model)  # refuses a model whose common file is unknown
        self.mac = normalize_mac(mac)
        self.model = model
        self.firmware = firmware
        self.generation: Generation = generation
        self.ip = ip
        self.user_agent = user_agent(model, firmware, self.mac)
        base, url_user, url_password = split_credentials(provisioning_url)
        self.provisioning_url = base
        self.register_ok = register_ok
        self.unresponsive = unresponsive
        self.action_url_timeout = action_url_timeout

        self.config = PhoneConfig()
        self.fetches: list[Fetch] = []
        self.action_urls: list[ActionUrlRecord] = []
        self.servlet_requests: list[ServletRequest] = []
        self.key_presses: list[str] = []
        self.pending: list[ServletRequest] = []
        self.calls: list[Call] = []
        self.dnd_enabled = False
        self.muted = False
        self.off_hook = False
        self.forwards: dict[str, Forward] = {}
        self.registered: dict[int, bool] = {}

        self._approved_ips: set[str] = set()
        self._md5: dict[str, str | None] = {}
        self._booted = False
        self._next_call_id = 1
        self._lock = threading.RLock()
        self._provision_lock = threading.Lock()
        self._provisioner = Provisioner(
            base,
            mac=self.mac,
            model=model,
            generation=generation,
            user_agent=self.user_agent,
            username=username if username is not None else (url_user or ""),
            password=password if password is not None else (url_password or ""),
        )
        self._sender = Sender(self.user_agent, action_url_timeout)
        # The core never exists on its own: it is the base of YealinkPhone, whose keys the web
        # server drives.
        self.web = ActionUriServer(cast("YealinkPhone", self), ip, web_port, basic=basic)

    # lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Opens the web server (the phone is plugged in); provisioning does it too."""
        self.web.start()
        return self

    def close(self) -> None:
        self.web.stop()
        self._sender.close()
        self._provisioner.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def web_port(self) -> int:
        return self.web.port

    @property
    def web_url(self) -> str:
        return f"http://{self.ip}:{self.web.port}"

    @property
    def stopped(self) -> bool:
        """True while the web server's port is closed (connections are refused)."""
        return not self.web.running

    @stopped.setter
    def stopped(self, value: bool) -> None:
        if value:
            self.web.stop()
        else:
            self.web.start()

    # provisioning -------------------------------------------------------------------------

    def provision(self) -> list[Fetch]:
        """Runs auto-provisioning; the first run is the phone's first boot."""
        return self._provision(boot=not self._booted)

    def reboot(self) -> list[Fetch]:
        """Calls drop without events (the phone just goes away), then it boots and provisions."""
        return self._provision(boot=True)

    def autop(self) -> list[Fetch]:
        return self._provision(boot=False)

    def _provision(self, *, boot: bool) -> list[Fetch]:
        with self._provision_lock:
            self.web.start()
            run = self._provisioner.run()
            with self._lock:
                if boot:
                    self.calls.clear()
                    self.registered.clear()
                    self.muted = self.off_hook = False
                before = {} if boot else self.accounts()
                self._apply(run)
                self.fetches.extend(run.fetches)
                port = self.config.get(self._key("network.port.http"))
                if port.isdigit() and int(port) != self.web.port:
                    # A real phone reboots to apply network settings; the emulator moves its
                    # web server before it announces itself, so Action URI finds it there.
                    self.web.move(int(port))
                records = []
                if self.generation == "v8x":
                    records.append(self._emit("setup_autop_finish"))
                if boot:
                    records.append(self._emit("setup_completed"))
                records += self._register(before, boot=boot)
                self._booted = True
        self._settle(records)
        return run.fetches

    def _apply(self, run: Run) -> None:
        for fetch, _ in run.files:
            fetch.unchanged = self._md5.get(fetch.url) == fetch.md5
            self._md5[fetch.url] = fetch.md5
        # The firmware skips an update whose files all match their previous download (§4.1).
        # When any changed it applies them all again, in order, so that a MAC file still
        # overrides a changed common file.
        if all(fetch.unchanged for fetch, _ in run.files):
            return
        config = PhoneConfig() if run.overwrite_mode else self.config.copy()
        for fetch, cfg in run.files:
            config.apply(cfg, overwrite_mode=run.overwrite_mode)
            fetch.applied = True
        self.config = config

    def _key(self, name: str) -> str:
        """`network.port.http` → `static.network.port.http` on V8x (§6.1)."""
        return f"static.{name}" if self.generation == "v8x" else name

    def accounts(self) -> dict[int, Account]:
        found: dict[int, Account] = {}
        indexes = {int(m.group(1)) for k in self.config.values if (m := _ACCOUNT_KEY.match(k))}
        for n in sorted(indexes):
            get = self.config.get
            user = get(f"account.{n}.user_name")
            host = get(
                f"account.{n}.sip_server.1.address"
                if self.generation == "v8x"
                else f"account.{n}.sip_server_host"
            )
            found[n] = Account(
                index=n,
                enabled=get(f"account.{n}.enable") == "1",
                user=user,
                host=host,
                display=get(f"account.{n}.display_name"),
                auth_name=get(f"account.{n}.auth_name"),
                password=get(f"account.{n}.password"),
            )
        return found

    def _register(self, before: dict[int, Account], *, boot: bool) -> list[ActionUrlRecord]:
        """Registration is assumed, not spoken: an enabled account with a user and a server
        registers if `register_ok`; one without fails, as it would against any registrar."""
        records = []
        for n, account in self.accounts().items():
            old = before.get(n)
            if not boot and old == account:
                continue
            if self.registered.pop(n, False):
                records.append(self._emit("unregistered", account=n))
            if account.enabled:
                ok = self.register_ok and bool(account.user and account.host)
                self.registered[n] = ok
                records.append(self._emit("registered" if ok else "register_failed", account=n))
        return records

    # Action URL ---------------------------------------------------------------------------

    def _emit(
        self,
        event: str,
        *,
        call: Call | None = None,
        account: int | None = None,
        forward: Forward | None = None,
    ) -> ActionUrlRecord:
        name = canonical_event(event)
        key = action_url_key(name, self.generation)
        template = self.config.get(key) if key else ""
        record = ActionUrlRecord(event=name, key=key, url=None)
        self.action_urls.append(record)
        if not template.strip():
            record.done.set()
            return record
        index = account or (call.account if call else 1)
        device = Device(self.mac, self.ip, self.model, self.firmware)
        values = variables(name, device, self.accounts().get(index), call, forward)
        record.raw_url = build_url(template, values)
        record.url = record.raw_url.decode("utf-8", errors="replace")
        self._sender.submit(record)
        return record

    def fire(
        self,
        event: str,
        *,
        account: int | None = None,
        remote: str | None = None,
        display: str = "",
        host: str | None = None,
        call_id: int | None = None,
        duration: int | None = None,
        direction: str = "unknown",
        target: str | None = None,
        fwd_time: int | None = None,
    ) -> ActionUrlRecord:
        """Fires one event by hand, outside any sequence, with the call or forward data given."""
        with self._lock:
            call = None
            if remote is not None or call_id is not None:
                index = account or 1
                call = Call(
                    id=call_id if call_id is not None else self._new_call_id(),
                    direction=direction,
                    remote_user=remote or "",
                    remote_host=host or self._account_host(index),
                    remote_display=display,
                    account=index,
                    state="connected",
                    connected_at=None if duration is None else time.monotonic() - duration,
                )
            forward = None
            if target is not None or fwd_time is not None:
                forward = Forward(target or "", fwd_time)
            record = self._emit(event, call=call, account=account, forward=forward)
        self._settle([record])
        return record

    def _settle(self, records: list[ActionUrlRecord]) -> None:
        for record in records:
            record.done.wait(self.action_url_timeout * 4 + 10)

    def fired(self, event: str | None = None) -> list[ActionUrlRecord]:
        """Action URLs actually sent (an event with no URL configured is left out)."""
        name = canonical_event(event) if event else None
        return [r for r in self.action_urls if r.sent and (name is None or r.event == name)]

    def wait_fired(self, event: str, count: int = 1, timeout: float = 10) -> ActionUrlRecord:
        """Waits until `event` has been sent `count` times and answered; returns the last."""
        deadline = time.monotonic() + timeout
        while True:
            done = [r for r in self.fired(event) if r.done.is_set()]
            if len(done) >= count:
                return done[count - 1]
            if time.monotonic() > deadline:
                sent = [r.event for r in self.fired()]
                raise AssertionError(f"{event} not fired {count} time(s); fired: {sent}")
            time.sleep(0.02)

    # calls --------------------------------------------------------------------------------

    def _new_call_id(self) -> int:
        call_id, self._next_call_id = self._next_call_id, self._next_call_id + 1
        return call_id

    def _account_host(self, index: int) -> str:
        account = self.accounts().get(index)
        return account.host if account else ""

    def find_call(self, call_id: int | None = None) -> Call | None:
        if call_id is None:
            return self.current_call()
        return next((c for c in self.calls if c.id == call_id), None)

    def current_call(self) -> Call | None:
        """The call the phone's screen shows: a connected one, else dialing, held, ringing."""
        for state in ("connected", "dialing", "held", "ringing"):
            for call in self.calls:
                if call.state == state:
                    return call
        return None

    def ringing_call(self, call_id: int | None = None) -> Call | None:
        return next(
            (c for c in self.calls if c.state == "ringing" and call_id in (None, c.id)), None
        )

    def _need(self, call: Call | None, what: str) -> Call:
        if call is None:
            raise ValueError(f"no {what} call on the phone; calls: {self.calls}")
        return call

    def _hold_others(self, keep: Call | None, records: list[ActionUrlRecord]) -> None:
        for other in self.calls:
            if other is not keep and other.state == "connected":
                other.state = "held"
                records.append(self._emit("hold", call=other))

    def _end(self, call: Call, records: list[ActionUrlRecord], *, handset: bool) -> None:
        self.calls.remove(call)
        if not self.calls:
            self.muted = False
            records.append(self._emit("busy_to_idle", call=call))
            if handset and self.off_hook:
                self.off_hook = False
                records.append(self._emit("on_hook"))

    def _lift(self, records: list[ActionUrlRecord], handset: bool) -> None:
        if handset and not self.off_hook:
            self.off_hook = True
            records.append(self._emit("off_hook"))
