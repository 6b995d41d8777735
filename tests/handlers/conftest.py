"""The error handler (handlers/errors.py) answers every button and every message, so a test that
only checks "the callback was answered" or "something was sent" also passes when the handler
crashed. Every test here therefore fails if the error handler logged anything; a test that makes
it run on purpose says so with ``@pytest.mark.expects_error_handler("why")``, and then fails if
it did not run. A test marked ``xfail`` checks the records itself (ask for this fixture by name):
a failure in teardown would not count as its expected failure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

ERROR_HANDLER_LOGGER = "handlers.errors"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def error_handler_records(request: pytest.FixtureRequest) -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger(ERROR_HANDLER_LOGGER)
    collect = _Collect()
    logger.addHandler(collect)
    try:
        yield collect.records
    finally:
        logger.removeHandler(collect)
    if request.node.get_closest_marker("xfail") is not None:
        return
    expected = request.node.get_closest_marker("expects_error_handler")
    if expected is not None:
        assert expected.args and expected.args[0], "say why the error handler is expected to run"
        if not collect.records:
            pytest.fail(f"expected the error handler to run ({expected.args[0]}), but it did not")
        return
    if collect.records:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        pytest.fail(
            "the error handler ran, so the update crashed:\n\n"
            + "\n\n".join(formatter.format(r) for r in collect.records),
            pytrace=False,
        )
