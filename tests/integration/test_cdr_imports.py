"""Loading CDRs in bulk: concurrent batches, files (JSON lines, the API's own CSV export), the
`celito cdrs import` command, and the audit entries a load leaves."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from celito.cdrs import imports
from celito.cdrs import service as cdrs
from celito.db import Database
from tests.integration.cdr_support import events, in_db, window
from tests.integration.test_cdrs import V2, history
from tests.support.live import LiveServer
from tests.support.proc import celito_env, run_celito
from tests.support.tenants import Tenant


def _load(server: LiveServer, path: Path, **options: Any) -> imports.LoadResult:
    async def run() -> imports.LoadResult:
        db = Database(server.settings.resolved_database_url)
        try:
            batches = imports.batched(imports.read_rows(path), options.pop("batch", 1000))
            return await imports.ingest_batches(db, batches, **options)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _jsonl(path: Path, rows: Sequence[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, default=str) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _calls(tenant: Tenant, count: int, tag: str) -> list[dict[str, Any]]:
    d = tenant.domain
    return [
        {
            "id": f"{tag}-{n}",
            "domain": d,
            "call-start-datetime": f"2026-11-20T{8 + n % 10:02d}:{n % 60:02d}:00Z",
            "call-answer-datetime": f"2026-11-20T{8 + n % 10:02d}:{n % 60:02d}:04Z",
            "call-disconnect-datetime": f"2026-11-20T{8 + n % 10:02d}:{n % 60:02d}:40Z",
            "call-orig-user": "1001",
            "call-orig-request-user": f"1415555{n:04d}",
        }
        for n in range(count)
    ]


def test_concurrent_batches_store_every_row_once_with_its_event(
    server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    path = _jsonl(tmp_path / "calls.jsonl", _calls(tenant, 23, "conc"))
    seen: list[int] = []
    result = _load(server, path, batch=4, streams=3, on_batch=lambda t: seen.append(t.received))
    assert (result.received, result.inserted, result.duplicates, result.rejected) == (23, 23, 0, [])
    assert result.batches == 6 and sorted(seen) == seen and seen[-1] == 23
    assert len([e for e in events(server, tenant.domain, "cdr") if e.action == "create"]) == 23
    with tenant.as_role("Office Manager") as om:
        r = om.get(f"{V2}/domains/{tenant.domain}/cdrs/count", params=window())
        assert r.json()["total"] == 23
    again = _load(server, path, batch=5, streams=2)
    assert (again.inserted, again.duplicates) == (0, 23)
    assert len(events(server, tenant.domain, "cdr")) == 23  # nothing re-announced


def test_unreadable_and_refused_rows_are_reported_by_line_and_the_rest_stored(
    server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    good = _calls(tenant, 4, "mixed")
    rows: list[dict[str, Any] | str] = [
        good[0],
        "{not json",
        good[1],
        '["a", "list"]',
        {**good[2], "domain": "nowhere.example"},
        {**good[3], "call-frobnication": "1"},
        "",
        {**good[3], "id": "mixed-last"},
    ]
    result = _load(server, _jsonl(tmp_path / "mixed.jsonl", rows), batch=3)
    assert result.inserted == 3
    assert [line for line, _ in result.rejected] == [2, 4, 5, 6]
    reasons = dict(result.rejected)
    assert reasons[2].startswith("not JSON") and reasons[4] == "not a JSON object"
    assert "nowhere.example" in reasons[5] and "call-frobnication" in reasons[6]


def test_an_exported_csv_reads_back_as_the_same_cdrs(
    server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    in_db(server, lambda session: _ingest(session, history(tenant)))
    with tenant.as_role("Office Manager") as om:
        exported = om.get(
            f"{V2}/domains/{tenant.domain}/cdrs", params={**window(), "format": "csv"}
        )
        assert exported.status_code == 200
        original = om.get(f"{V2}/domains/{tenant.domain}/cdrs", params=window()).json()
    path = tmp_path / "export.csv"
    path.write_text(exported.text)
    same = _load(server, path)
    assert (same.received, same.inserted, same.duplicates, same.rejected) == (5, 0, 5, [])
    # The same calls under new ids: stored as they were exported.
    table = list(csv.DictReader(io.StringIO(exported.text)))
    for row in table:
        row["id"] = f"copy-{row['id']}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(table)
    (tmp_path / "copy.csv").write_text(out.getvalue())
    copied = _load(server, tmp_path / "copy.csv")
    assert (copied.inserted, copied.rejected) == (5, [])
    with tenant.as_role("Office Manager") as om:
        both = om.get(f"{V2}/domains/{tenant.domain}/cdrs", params=window()).json()
    copies = {c["id"].removeprefix("copy-"): c for c in both if c["id"].startswith("copy-")}
    assert len(copies) == 5
    for cdr in original:
        copy = copies[cdr["id"]]
        assert {k: v for k, v in copy.items() if k != "id"} == {
            k: v for k, v in cdr.items() if k != "id"
        }


async def _ingest(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    result = await cdrs.ingest(session, rows)
    assert not result.rejected, result.rejected


def test_the_import_command_loads_a_file_audits_it_and_says_what_it_refused(
    server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    rows: list[dict[str, Any] | str] = [*_calls(tenant, 7, "cli"), "{broken"]
    path = _jsonl(tmp_path / "history.jsonl", rows)
    env = {**celito_env(tmp_path), "CELITO_DATABASE_URL": server.settings.resolved_database_url}
    done = run_celito("cdrs", "import", str(path), "--batch", "3", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "8 CDRs read: 7 stored, 0 already there, 1 refused" in done.stdout
    assert "line 8: not JSON" in done.stdout
    again = run_celito("cdrs", "import", str(path), env=env)
    assert "7 already there" in again.stdout
    wrong = run_celito("cdrs", "import", str(tmp_path / "history.jsonl.gz"), env=env)
    assert wrong.returncode != 0 and "does not exist" in (wrong.stdout + wrong.stderr)
    (tmp_path / "calls.xml").write_text("<cdrs/>")
    xml = run_celito("cdrs", "import", str(tmp_path / "calls.xml"), env=env)
    assert xml.returncode == 1 and "expected a .jsonl, .ndjson or .csv file" in xml.stdout
    entries = tenant.api.su.get(
        f"{V2}/auditlog",
        params={
            "datetime-start": "2000-01-01 00:00:00",
            "datetime-end": "2100-01-01 00:00:00",
            "limit": "1000",
            "action-type": "import",
            "target-object": "cdrs",
        },
    ).json()
    mine = [e for e in entries if e["target-id"] == "history.jsonl"]
    # The second run's entries come after; on PostgreSQL batches commit in either order.
    first = sorted(mine, key=lambda e: e["id"])[:3]
    first.sort(key=lambda e: int(e["auditlog-details"]["rows"].split("-")[0]))
    assert [e["auditlog-details"]["rows"] for e in first] == ["1-3", "4-6", "7-8"]
    assert [e["auditlog-details"]["inserted"] for e in first] == [3, 3, 1]
    assert first[-1]["auditlog-details"]["rejected"] == 1
    assert {e["by-client"] for e in mine} == {"cli"}
