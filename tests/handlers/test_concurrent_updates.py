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
from tests.handlers.intake_helpers import consenting_citizen, fsm

CITIZENS = 60  # four times the SQLite pool (5 + 10 overflow)


async def test_more_concurrent_forms_than_connections_all_answered(tmp_path):
    async with Harness.create(tmp_path) as h:
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
