"""Run records and daemon state are plain dataclasses written and read with msgspec: the
lines are the ones the pydantic models wrote, unknown keys ride along, broken input is
refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest

from automation_manager.engine.state import DaemonInfo, InflightRun, StateStore
from automation_manager.enums import RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.records import InvalidRecord, RunRecord, Usage

IST = timezone(timedelta(hours=5, minutes=30))

# written by the pydantic RunRecord (model_dump_json) for the record below (but for its
# ``1e+20``: msgspec writes ``1e20``, the same number)
LINE = (
    '{"id":"r1","timestamp":"2025-03-01T12:00:00.250000+05:30","task_id":"t",'
    '"category":"content_creation","type":"blog","trigger":"catch-up","attempt":1,'
    '"scheduled_for":"2025-03-01T06:00:00Z","status":"success","success":true,'
    '"params":{"topic":"ünï \\"1e5,\\""},"result":{"big":1e20,"tiny":1e-7,"f":0.1},'
    '"error":null,"duration_ms":0,"usage":{"prompt_tokens":0,"completion_tokens":0,'
    '"cost_usd":0.5,"calls":1,"images":2},"provider":null,"run_id":null,'
    '"process_type":null,"resources_used":null,"legacy":"kept"}'
)


def example() -> RunRecord:
    return RunRecord(
        id="r1",
        timestamp=datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=IST),
        task_id="t",
        category="content_creation",
        type="blog",
        trigger=Trigger.CATCH_UP,
        scheduled_for=datetime(2025, 3, 1, 6, 0, tzinfo=UTC),
        status=RunStatus.SUCCESS,
        success=True,
        params={"topic": 'ünï "1e5,"'},
        result={"big": 1e20, "tiny": 1e-7, "f": 0.1},
        usage=Usage(cost_usd=0.5, calls=1, extra={"images": 2}),
        extra={"legacy": "kept"},
    )


def test_a_line_is_the_one_pydantic_wrote_and_reads_back_whole() -> None:
    record = example()
    assert record.to_line() == LINE
    back = RunRecord.from_line(LINE)
    assert back == record and back.to_line() == LINE
    assert back.extra == {"legacy": "kept"} and back.usage is not None
    assert back.usage.extra == {"images": 2}
    assert RunRecord.from_json(record.to_json()) == record  # the recorder's round trip


def test_reading_coerces_what_pydantic_coerced() -> None:
    line = (
        '{"id":"r1","timestamp":"2025-03-01T12:00:00+05:30","task_id":"t","category":"c",'
        '"type":"blog","trigger":"retry","status":"failed","success":"false","attempt":"2",'
        '"usage":{"cost_usd":1,"calls":"3"},"resources_used":{"cpu_s":1}}'
    )
    record = RunRecord.from_line(line)
    assert record.timestamp == datetime(2025, 3, 1, 12, 0, tzinfo=IST)
    assert record.status is RunStatus.FAILED and record.trigger is Trigger.RETRY
    assert record.success is False and record.attempt == 2
    assert record.usage == Usage(cost_usd=1.0, calls=3)
    assert '"cost_usd":1.0,' in record.to_line() and '"cpu_s":1.0}' in record.to_line()


@pytest.mark.parametrize(
    "text",
    [
        b"[]",
        b'{"id":"r1"}',
        LINE.replace('"catch-up"', '"later"').encode(),
        LINE.replace('"success","success"', '"bogus","success"').encode(),
        LINE.replace('"calls":1', '"calls":"x"').encode(),
        LINE.replace("2025-03-01T12:00:00.250000+05:30", "noon").encode(),
    ],
)
def test_a_broken_record_is_refused(text: bytes) -> None:
    with pytest.raises(InvalidRecord):
        RunRecord.from_line(text)


def test_a_line_that_is_no_json_is_refused() -> None:
    with pytest.raises(msgspec.DecodeError):
        RunRecord.from_line(b'{"id": ')


def test_a_usage_copy_has_its_own_extra_keys() -> None:
    usage = Usage(calls=1, extra={"images": 1})
    copy = usage.copy()
    usage.extra["images"] = 5
    assert copy.extra == {"images": 1}
    assert usage.add(copy) == Usage(calls=2)  # the sum keeps only the counted fields


def test_daemon_info_and_notes_read_back(tmp_path: Path) -> None:
    store = StateStore(Home(tmp_path))
    info = DaemonInfo(pid=12, started_at=datetime(2025, 3, 1, 12, 0, tzinfo=IST), version="1")
    store.write_daemon(info)
    assert store.read_daemon() == info
    store.daemon_path.write_text('{"pid": "x"}')
    assert store.read_daemon() is None  # unreadable: none
    note = InflightRun(
        record_id="r1",
        pid=12,
        task_id="t",
        category="c",
        type="blog",
        trigger=Trigger.SCHEDULED,
        started_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        timeout_s=1e20,
        params={"a": [1, 0.1]},
    )
    store.add_inflight(note)
    assert store.inflight_path("r1").read_bytes() == (
        b'{"record_id":"r1","pid":12,"task_id":"t","category":"c","type":"blog",'
        b'"trigger":"scheduled","attempt":1,"scheduled_for":null,'
        b'"started_at":"2025-03-01T12:00:00Z","timeout_s":1e20,"params":{"a":[1,0.1]},'
        b'"token":null,"owner":"daemon"}'
    )
    store.inflight_path("r2").write_text("{")
    assert store.inflight() == [note]
    assert not store.inflight_path("r2").exists()  # the torn one is dropped


def test_records_and_state_import_no_pydantic() -> None:
    code = (
        "import sys, automation_manager.logs.records, automation_manager.engine.state; "
        "assert 'pydantic' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
