"""Command line: provision an emulated phone, fire an event, optionally keep serving Action URI.

    python -m tests.support.yealink_phone --url http://127.0.0.1:8000/cfg/ --user U --password P \\
        --mac 001565aabbcc [--model T46S] [--generation v8x] \\
        [--event call_established --remote 1002 --display "Jane Doe"] [--serve]
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.support.yealink_phone.action_url import ActionUrlRecord
from tests.support.yealink_phone.catalog import EVENT_ALIASES, EVENTS, GENERATIONS
from tests.support.yealink_phone.phone import YealinkPhone
from tests.support.yealink_phone.provisioning import Fetch
from tests.support.yealink_phone.servlet import ServletRequest


def _fetch_line(fetch: Fetch) -> str:
    state = (
        fetch.error
        or ("applied" if fetch.applied else "unchanged, not applied" if fetch.unchanged else "")
        or ("not applied" if fetch.status == 200 else "")
    )
    md5 = f" md5={fetch.md5}" if fetch.md5 else ""
    ignored = f" ({len(fetch.ignored_lines)} lines ignored)" if fetch.ignored_lines else ""
    return f"fetch  {fetch.status or '---'} {fetch.url}{md5} {state}{ignored}".rstrip()


def _fired_line(record: ActionUrlRecord) -> str:
    outcome = str(record.status) if record.status is not None else record.error or "no answer"
    return f"fired  {record.event}: GET {record.url!r} → {outcome}"


def _servlet_line(request: ServletRequest) -> str:
    who = f" as {request.user}" if request.user else ""
    return (
        f"action-uri  {request.source_ip}{who} {request.path}?{request.query}"
        f" → {request.status or '---'} {request.result}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.yealink_phone",
        description="An emulated Yealink phone: provisions, fires Action URLs, serves Action URI.",
    )
    parser.add_argument("--url", required=True, help="provisioning server URL (a directory)")
    parser.add_argument("--user", default=None, help="provisioning user name")
    parser.add_argument("--password", default=None, help="provisioning password")
    parser.add_argument("--mac", required=True)
    parser.add_argument("--model", default="T46S")
    parser.add_argument("--firmware", default="66.86.0.15")
    parser.add_argument("--generation", choices=GENERATIONS, default="v8x")
    parser.add_argument("--ip", default="127.0.0.1", help="the phone's address ($ip, web server)")
    parser.add_argument("--web-port", type=int, default=0, help="Action URI port (0: any free)")
    parser.add_argument("--basic", action="store_true", help="web server asks for Basic auth")
    parser.add_argument("--register-failed", action="store_true", help="accounts fail to register")
    parser.add_argument(
        "--event", choices=sorted(EVENTS | set(EVENT_ALIASES)), help="fire this event once"
    )
    parser.add_argument("--remote", help="remote party's number (call events)")
    parser.add_argument("--display", default="", help="remote party's display name")
    parser.add_argument("--call-id", type=int)
    parser.add_argument("--direction", choices=("in", "out", "unknown"), default="unknown")
    parser.add_argument("--duration", type=int)
    parser.add_argument("--target", help="forward target (forward events)")
    parser.add_argument("--account", type=int)
    parser.add_argument(
        "--serve", action="store_true", help="keep serving Action URI until interrupted"
    )
    args = parser.parse_args(argv)

    phone = YealinkPhone(
        args.mac,
        provisioning_url=args.url,
        username=args.user,
        password=args.password,
        model=args.model,
        firmware=args.firmware,
        generation=args.generation,
        ip=args.ip,
        web_port=args.web_port,
        basic=args.basic,
        register_ok=not args.register_failed,
    )
    with phone:
        print(f"phone  {phone.user_agent}")
        try:
            fetches = phone.provision()
        except RuntimeError as exc:
            print(f"error  {exc}", file=sys.stderr)
            return 1
        for fetch in fetches:
            print(_fetch_line(fetch))
        if args.event:
            phone.fire(
                args.event,
                account=args.account,
                remote=args.remote,
                display=args.display,
                call_id=args.call_id,
                duration=args.duration,
                direction=args.direction,
                target=args.target,
            )
        for record in phone.action_urls:
            if record.sent:
                print(_fired_line(record))
            else:
                print(f"event  {record.event}: no {record.key or 'key on this generation'} set")
        shown_fired, shown_requests = len(phone.action_urls), 0
        if not args.serve:
            return 0
        print(f"action-uri  serving {phone.web_url}/servlet?key=… (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(0.2)
                for request in phone.servlet_requests[shown_requests:]:
                    if request.done.is_set():
                        print(_servlet_line(request), flush=True)
                        shown_requests += 1
                    else:
                        break
                for record in phone.action_urls[shown_fired:]:
                    if not record.done.is_set():
                        break
                    if record.sent:
                        print(_fired_line(record), flush=True)
                    shown_fired += 1
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
