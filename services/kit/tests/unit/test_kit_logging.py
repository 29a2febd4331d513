"""Logs never carry personal data, even when the platform runs at DEBUG."""

from __future__ import annotations

import io
import json
import logging

from mimamori.kit.telemetry import DRIVER_LOGGERS, setup_logging


def test_database_and_kafka_drivers_stay_quiet_at_debug() -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    try:
        logging.getLogger("aiosqlite").debug("executing %s with %s", "INSERT", ("山田　花子",))
        logging.getLogger("sqlalchemy.engine.Engine").info("[generated] ('山田　花子',)")
        logging.getLogger("mimamori.test").debug("constant message", extra={"count": 3})
    finally:
        setup_logging("INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["mimamori.test"]
    assert "山田" not in stream.getvalue()
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in DRIVER_LOGGERS)
