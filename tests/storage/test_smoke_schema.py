from sqlalchemy import inspect


async def test_every_table_is_created(engine):
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"citizen", "agency", "report", "attachment", "report_event"} <= names
