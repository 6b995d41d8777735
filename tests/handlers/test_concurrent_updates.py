"""Many citizens at once: every update is answered, none waits on another's connection.

The stall of issue 15, reproduced through the real dispatcher: each update used to hold a
connection of the pool from the middleware's citizen lookup to its end, while the FSM storage
opened a second session for each read and write. With more concurrent updates than connections
(15 on SQLite), every connection was held by an update waiting for a second one, and nothing
moved until the pool's 30 s timeout, when every one of them failed. Now an update uses one
session (``bot/unit_of_work.py``), so any number of them finish.
"""

from __future__ import annotations

import asyncio

from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import consenting_citizen, drive, fsm, texts_since

# Three times the connections the pool may open: every update holding one and waiting for a
# second would stall them all until the pool's timeout. A small pool keeps the test short.
POOL = {"pool_size": 4, "max_overflow": 2}
CITIZENS = 18


async def test_more_concurrent_forms_than_connections_all_answered(tmp_path):
    async with Harness.create(tmp_path, database=POOL) as h:
        users = [h.user(70_000 + i, f"Warga {i}") for i in range(CITIZENS)]
        for user in users:
            await consenting_citizen(h, user)

        # Bounded: on the stalled design this fails with the pool's timeout, not a hung suite.
        await asyncio.wait_for(asyncio.gather(*(h.send(u, "/lapor") for u in users)), timeout=25)
        for user in users:
            assert "Pengaduan" in str(h.last(user).buttons), h.last_text(user)
            state, data = await fsm(h, user)
            assert state == "ReportForm:classification" and data["form_id"]

        async def choose_kind(user) -> None:
            await h.press(user, h.last(user), h.last(user).button("Pengaduan"))

        await asyncio.wait_for(asyncio.gather(*(choose_kind(u) for u in users)), timeout=25)
        for user in users:
            state, data = await fsm(h, user)
            assert state != "ReportForm:classification", h.last_text(user)
            assert data["draft"]["classification"] == "complaint"


async def test_an_album_delivered_at_once_keeps_every_file_and_is_acknowledged_once(tmp_path):
    """Telegram delivers an album as one update per file, in one batch, handled concurrently.
    The chat's lock must last until the update's transaction is committed: released before it,
    the second photo read the form as it was before the first and overwrote it (a lost file, the
    album acknowledged twice; found by tests/e2e/test_intake_e2e.py)."""
    async with Harness.create(tmp_path) as h:
        user = h.user(80_001, "Siti")
        await consenting_citizen(h, user)
        await drive(h, user, "at")
        mark = h.mark()
        await asyncio.wait_for(asyncio.gather(*(h.send_photo(user, media_group_id="album-1") for _ in range(3))),
                               timeout=25)
        _state, data = await fsm(h, user)
        assert len(data["draft"]["attachments"]) == 3
        assert len([t for t in texts_since(h, mark) if "Album" in t]) == 1
