"""PostgreSQL: the driver's connection, keeping its prepared statements past read sessions.

psycopg forgets every statement it prepared on a connection, and sends DEALLOCATE ALL, on any
ROLLBACK there, since a failed transaction may have left its own view and the server's apart.
Read sessions end in a ROLLBACK (SQLAlchemy's close), and the stream's and the deliveries'
readers end several a second, on the pooled connections writers use too: a hot statement was
prepared afresh every few uses, and a freshly prepared statement is planned at every run for
its first five (the phones' report batches spent as long planning their reads as running
them).

Readers run in READ ONLY transactions (celito.db), so the server refuses any write in them, and
ending one that did not fail by COMMIT or by ROLLBACK is the same to the server; ending it by
COMMIT keeps the connection's statements prepared. A failed one is rolled back as before.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.pq import TransactionStatus


class Connection(psycopg.AsyncConnection[Any]):
    async def rollback(self) -> None:
        if self.read_only and self.info.transaction_status == TransactionStatus.INTRANS:
            await self.commit()
            return
        await super().rollback()
