"""YealinkPhone: the call sequences a person plays on the phone, and what Action URI needs.

Event order inside a sequence is not documented anywhere (UNVERIFIED): the emulator fires the
call event first and the idle/busy transition after it, hook events around the whole, e.g.
off_hook → outgoing_call → idle_to_busy … call_terminated → busy_to_idle → on_hook.
Sequences started through Action URI use the speaker, so they fire no hook events.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support.yealink_phone.action_url import ActionUrlRecord
from tests.support.yealink_phone.calldata import Call, Forward
from tests.support.yealink_phone.core import PhoneCore
from tests.support.yealink_phone.servlet import ServletRequest, WebSettings, run_keys

FORWARD_KINDS = ("always", "busy", "no_answer")


class YealinkPhone(PhoneCore):
    """A Yealink desk phone of one generation, driven from a test.

    Methods that change state fire their Action URLs and wait until each request got an answer
    (or failed), so a test can assert on the server right after the call. Requests that come in
    through Action URI are acted on after the phone has answered them, on the web server's
    thread: `wait_servlet()` or `wait_fired(event)` waits for that.

    What a test reads: `fetches` (every download), `config.values` (the merged settings),
    `action_urls` / `fired(event)` (every event, what was sent and the answer), `registered`,
    `calls`, `dnd_enabled`, `forwards`, `servlet_requests`, `pending`, `key_presses`.
    Failure switches: `register_ok`, `unresponsive`, `stopped`.
    """

    # call sequences -----------------------------------------------------------------------

    def incoming_call(
        self,
        remote_user: str,
        remote_display: str = "",
        *,
        remote_host: str | None = None,
        account: int = 1,
    ) -> Call | None:
        """A call starts ringing. None when the phone turns it away without ringing: DND,
        always-forward, or busy with call waiting off (`call_waiting.enable = 0`)."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            busy = bool(self.calls)
            if (
                self.dnd_enabled
                or "always" in self.forwards
                or (busy and self.config.get("call_waiting.enable", "1") == "0")
            ):
                return None
            call = Call(
                id=self._new_call_id(),
                direction="in",
                remote_user=remote_user,
                remote_host=remote_host or self._account_host(account),
                remote_display=remote_display,
                account=account,
                state="ringing",
            )
            self.calls.append(call)
            records.append(self._emit("incoming_call", call=call))
            if not busy:
                records.append(self._emit("idle_to_busy", call=call))
        self._settle(records)
        return call

    def answer(self, call_id: int | None = None, *, handset: bool = True) -> Call:
        """Answers the ringing call (lifting the handset unless `handset=False`, the speaker).
        Answering a second call holds the first."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self.ringing_call(call_id), "ringing")
            others = [c for c in self.calls if c is not call and c.state != "ringing"]
            self._lift(records, handset)
            self._hold_others(call, records)
            if others:
                records.append(self._emit("answer_new_incoming_call", call=call))
            call.state, call.connected_at = "connected", time.monotonic()
            records.append(self._emit("call_established", call=call))
        self._settle(records)
        return call

    def dial(
        self,
        number: str,
        *,
        account: int = 1,
        handset: bool = True,
        remote_display: str = "",
        remote_host: str | None = None,
    ) -> Call:
        """Places a call; it rings back until `remote_answers()` or `remote_busy()`."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            busy = bool(self.calls)
            self._lift(records, handset)
            self._hold_others(None, records)
            call = Call(
                id=self._new_call_id(),
                direction="out",
                remote_user=number,
                remote_host=remote_host or self._account_host(account),
                remote_display=remote_display,
                account=account,
                state="dialing",
            )
            self.calls.append(call)
            records.append(self._emit("outgoing_call", call=call))
            if not busy:
                records.append(self._emit("idle_to_busy", call=call))
        self._settle(records)
        return call

    def remote_answers(self, call_id: int | None = None, *, remote_display: str = "") -> Call:
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self._in_state("dialing", call_id), "dialing")
            call.remote_display = remote_display or call.remote_display
            call.state, call.connected_at = "connected", time.monotonic()
            records.append(self._emit("call_established", call=call))
        self._settle(records)
        return call

    def remote_busy(self, call_id: int | None = None) -> Call:
        """The callee rejects or is busy: the outgoing call ends without being established."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self._in_state("dialing", call_id), "dialing")
            records.append(self._emit("remote_busy", call=call))
            self._end(call, records, handset=False)
        self._settle(records)
        return call

    def hang_up(self, call_id: int | None = None, *, handset: bool = True) -> Call:
        """This side ends the call: call_terminated for an established call, cancel_callout
        while ringing back, reject_incoming_call for a ringing call."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self.find_call(call_id), "active")
            event = {"dialing": "cancel_callout", "ringing": "reject_incoming_call"}.get(
                call.state, "call_terminated"
            )
            records.append(self._emit(event, call=call))
            self._end(call, records, handset=handset)
        self._settle(records)
        return call

    def reject(self, call_id: int | None = None) -> Call:
        call = self._need(self.ringing_call(call_id), "ringing")
        return self.hang_up(call.id, handset=False)

    def remote_hang_up(self, call_id: int | None = None) -> Call:
        """The other side ends the call; a ringing call it gives up on becomes a missed call."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self.find_call(call_id), "active")
            if call.state == "dialing":
                raise ValueError("the callee never answered: use remote_busy()")
            if call.state == "ringing":
                records.append(self._emit("call_remote_canceled", call=call))
                records.append(self._emit("missed_call", call=call))
            else:
                records.append(self._emit("call_terminated", call=call))
            self._end(call, records, handset=False)
        self._settle(records)
        return call

    def missed_call(self, remote_user: str, remote_display: str = "") -> Call | None:
        """A call rings and the caller gives up before anyone answers."""
        call = self.incoming_call(remote_user, remote_display)
        if call is not None:
            self.remote_hang_up(call.id)
        return call

    def transfer(self, target: str, call_id: int | None = None) -> Call:
        """Blind transfer of the current call to `target`; this phone leaves the call. Which of
        transfer_call/blind_transfer_call fire, and in what order, is UNVERIFIED: both are
        sent, then transfer_finished."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self._in_state("connected", call_id), "connected")
            for event in ("transfer_call", "blind_transfer_call", "transfer_finished"):
                records.append(self._emit(event, call=call))
            records.append(self._emit("call_terminated", call=call))
            self._end(call, records, handset=False)
        self._settle(records)
        return call

    def _in_state(self, state: str, call_id: int | None) -> Call | None:
        return next((c for c in self.calls if c.state == state and call_id in (None, c.id)), None)

    def _call_event(self, event: str, state: str, new_state: str, call_id: int | None) -> Call:
        records: list[ActionUrlRecord] = []
        with self._lock:
            call = self._need(self._in_state(state, call_id), state)
            if new_state == "connected":
                self._hold_others(call, records)
            call.state = new_state
            records.append(self._emit(event, call=call))
        self._settle(records)
        return call

    def hold(self, call_id: int | None = None) -> Call:
        return self._call_event("hold", "connected", "held", call_id)

    def unhold(self, call_id: int | None = None) -> Call:
        return self._call_event("unhold", "held", "connected", call_id)

    def remote_holds(self, call_id: int | None = None) -> Call:
        """The other side puts us on hold (`held`; V8x only). Our call state does not change."""
        return self._call_event("held", "connected", "connected", call_id)

    def remote_resumes(self, call_id: int | None = None) -> Call:
        return self._call_event("unheld", "connected", "connected", call_id)

    def _toggle(self, attribute: str, value: bool, on: str, off: str, **context: Any) -> bool:
        """Sets a phone-wide switch; an event fires only when it actually changes."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            if getattr(self, attribute) != value:
                setattr(self, attribute, value)
                records.append(self._emit(on if value else off, **context))
        self._settle(records)
        return bool(records)

    def mute(self) -> bool:
        call = self._need(self._in_state("connected", None), "connected")
        return self._toggle("muted", True, "mute", "unmute", call=call)

    def unmute(self) -> bool:
        call = self._need(self._in_state("connected", None), "connected")
        return self._toggle("muted", False, "mute", "unmute", call=call)

    def dnd(self, on: bool) -> bool:
        return self._toggle("dnd_enabled", on, "dnd_on", "dnd_off")

    def forward(
        self, kind: str, target: str | None, *, seconds: int | None = None, account: int = 1
    ) -> bool:
        """Turns `always`/`busy`/`no_answer` forwarding on (to `target`) or off (None)."""
        if kind not in FORWARD_KINDS:
            raise ValueError(f"forward kind must be one of {FORWARD_KINDS}, not {kind!r}")
        records: list[ActionUrlRecord] = []
        with self._lock:
            old = self.forwards.get(kind)
            state = Forward(target, seconds) if target is not None else None
            if old == state:
                return False
            if state is None:
                del self.forwards[kind]
            else:
                self.forwards[kind] = state
            event = f"{kind}_fwd_{'on' if state else 'off'}"
            records.append(self._emit(event, account=account, forward=state or old))
        self._settle(records)
        return True

    def press_key(self, key: str) -> None:
        """A key press the emulator only records, except the two with events of their own."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            self.key_presses.append(key)
            if key in ("HEADSET", "SPEAKER"):
                records.append(self._emit("headset" if key == "HEADSET" else "handfree"))
        self._settle(records)

    def change_ip(self, ip: str) -> None:
        """The phone got a new address: `$ip` changes and ip_change fires. The web server stays
        where it is (tests reach it on loopback)."""
        records: list[ActionUrlRecord] = []
        with self._lock:
            self.ip = ip
            records.append(self._emit("ip_change"))
        self._settle(records)

    # Action URI support -------------------------------------------------------------------

    def web_settings(self) -> WebSettings:
        get = self.config.get
        admin = get(self._key("security.user_name.admin"), "admin") or "admin"
        password_key = self._key("security.user_password")
        password = self.config.password(password_key, admin)
        if password is None:
            password = self.config.password(password_key, "admin")
        return WebSettings(
            enabled=get("features.action_uri.enable", "1") != "0",
            allow_list=get("features.action_uri_limit_ip"),
            prompt=get("features.show_action_uri_option", "1") != "0",
            admin_user=admin,
            # Factory default web login is admin/admin.
            admin_password=password if password is not None else "admin",
        )

    def remote_control_allowed(self, ip: str) -> bool:
        with self._lock:
            return ip in self._approved_ips

    def ask_remote_control(self, request: ServletRequest) -> None:
        with self._lock:
            self.pending.append(request)

    def wait_servlet(self, timeout: float = 10) -> ServletRequest:
        """Waits until every Action URI request so far has been acted on (its Action URLs
        answered); returns the last one."""
        deadline = time.monotonic() + timeout
        for request in list(self.servlet_requests):
            if not request.done.wait(max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"Action URI request still running: {request}")
        return self.servlet_requests[-1]

    def press_ok(self) -> list[ServletRequest]:
        """Someone presses OK on "Allow remote control?": the waiting requests run, and their
        sources are trusted from now on."""
        with self._lock:
            waiting, self.pending = self.pending, []
            self._approved_ips.update(r.source_ip for r in waiting)
        for request in waiting:
            request.result = run_keys(self, request.key, request.params)
        return waiting

    def press_cancel(self) -> list[ServletRequest]:
        with self._lock:
            waiting, self.pending = self.pending, []
        for request in waiting:
            request.result = "declined on the phone"
        return waiting

    def account_for_uri(self, uri: str) -> int:
        """`outgoing_uri=1001@pbx` picks the account with that user (and server); the phone's
        default account otherwise (what a phone does with an unknown one is UNVERIFIED)."""
        user, _, host = uri.removeprefix("sip:").partition("@")
        for account in self.accounts().values():
            if account.enabled and account.user == user and host in ("", account.host):
                return account.index
        return 1

    def state_report(self, params: dict[str, str]) -> dict[str, Any]:
        """`phonecfg=get`: the real response format is UNVERIFIED, so this is the emulator's own
        JSON with the documented contents (firmware, accounts, DND, forwards)."""
        wanted = {k for k in ("accounts", "dnd", "fw") if params.get(k) == "1"}
        wanted = wanted or {"accounts", "dnd", "fw"}
        report: dict[str, Any] = {"mac": self.mac, "model": self.model}
        with self._lock:
            if "fw" in wanted:
                report["firmware"] = self.firmware
            if "accounts" in wanted:
                report["accounts"] = [
                    {"account": a.index, "user": a.user, "registered": self.registered.get(n)}
                    for n, a in self.accounts().items()
                    if a.enabled
                ]
            if "dnd" in wanted:
                report["dnd"] = self.dnd_enabled
                report["forward"] = {
                    kind: {"target": f.target, "seconds": f.seconds}
                    for kind, f in self.forwards.items()
                }
            report["calls"] = [{"id": c.id, "state": c.state} for c in self.calls]
        return report
