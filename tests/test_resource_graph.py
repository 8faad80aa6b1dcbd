"""`Resources.from_resource_graph` through the real ResourceGraphClient against a fake HTTPS server.

The fake (tests/fake_arg.py) serves a generated tenant of 60,000 resources spread over 2,400
subscriptions and injects one fault schedule per test. Every test compares the ids read with the
server's own, so a lost or repeated page fails it; waits are recorded through the `sleep` hook
and checked against the headers the server sent, and the server itself flags any request that
arrived before the time it had asked the client to wait for.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("trustme", reason="trustme (test extra) makes the fake's TLS cert")
pytest.importorskip("azure.mgmt.resourcegraph", reason="the azure extra is not installed")

import azsecmap
from azsecmap import _core
from azsecmap.cli import app
from azsecmap.resource_graph import (
    DEFAULT_QUERY,
    ResourceGraphError,
    RetryBudget,
    parse_retry_after,
    parse_timespan,
)

from .fake_arg import (
    FakeResourceGraph,
    Fault,
    Server,
    SleepLog,
    StaticTokenCredential,
    http_date,
    issue_tls,
)

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.fake-arg-secret-7c1e9d"
TENANT_SIZE = 60_000
SUBSCRIPTIONS = 2_400
FAST = RetryBudget(max_retries=4, max_retry_seconds=20, backoff_base=0.02, backoff_max=0.2)
COLUMNS = {
    "id", "name", "type", "location", "kind", "tags", "properties", "sku", "identity", "zones",
    "managedBy", "plan", "subscriptionId", "resourceGroup", "extendedLocation",
}  # fmt: skip


def _spread(doc: dict[str, Any], index: int) -> dict[str, Any]:
    """Move a resource into one of SUBSCRIPTIONS synthetic subscriptions (as Resource Graph
    projects it: only the default query's columns)."""
    sub = f"{index % SUBSCRIPTIONS:08x}-0000-4000-8000-00000000a76f"
    old = doc["id"].split("/")[2]
    out = {k: v for k, v in doc.items() if k in COLUMNS}
    out["id"] = doc["id"].replace(f"/subscriptions/{old}", f"/subscriptions/{sub}", 1)
    out["subscriptionId"] = sub
    return out


@pytest.fixture(scope="session")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, bytes]]:
    path = tmp_path_factory.mktemp("tenant") / "tenant.ndjson"
    _core.write_sample(str(path), TENANT_SIZE, 6)
    rows = []
    for i, ln in enumerate(path.read_bytes().splitlines()):
        if ln.strip():
            doc = _spread(json.loads(ln), i)
            rows.append((doc["id"], doc["subscriptionId"], json.dumps(doc).encode()))
    return rows


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return issue_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def server(tenant: list[tuple[str, str, bytes]], tls: dict[str, str]) -> Iterator[Server]:
    srv = Server(FakeResourceGraph(tenant, TOKEN), tls["chain"], tls["key"])
    yield srv
    srv.close()


@pytest.fixture
def fake(server: Server) -> FakeResourceGraph:
    server.state.reset()
    return server.state


def read(server: Server, tls: dict[str, str], **kwargs: Any) -> azsecmap.Resources:
    kwargs.setdefault("retry", FAST)
    return azsecmap.Resources.from_resource_graph(
        StaticTokenCredential(TOKEN),
        endpoint=server.endpoint,
        connection_verify=tls["ca"],
        **kwargs,
    )


def expected_ids(fake: FakeResourceGraph, subscriptions: list[str] | None = None) -> list[str]:
    if subscriptions is None:
        return list(fake.ids)
    wanted = {s.lower() for s in subscriptions}
    return [i for i, s in zip(fake.ids, fake.subs, strict=True) if s in wanted]


def written_ids(res: azsecmap.Resources) -> list[str]:
    """The ids in the NDJSON file behind ``res``, read in Python (the debug-built extension
    would take seconds per test to load 60,000 documents)."""
    source = res._source
    assert isinstance(source, str)
    with open(source, "rb") as f:
        return [json.loads(line)["id"] for line in f if line.strip()]


def assert_exactly_once(
    res: azsecmap.Resources, expected: list[str], through_store: bool = False
) -> None:
    got = res.ids().to_list() if through_store else written_ids(res)
    assert len(got) == len(set(got)), "a resource arrived twice"
    assert sorted(got) == sorted(expected), f"{len(set(expected) - set(got))} resources missing"
    if through_store:
        assert not res.errors


def no_early_requests(fake: FakeResourceGraph) -> None:
    early = [i + 1 for i, r in enumerate(fake.requests) if r.early]
    assert not early, f"requests {early} arrived before the wait the server asked for"


# -- the plain read ---------------------------------------------------------------------------


def test_plain_paging_reads_the_whole_tenant_once(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="azsecmap")
    sleep = SleepLog()
    started = time.perf_counter()
    res = read(server, tls, sleep=sleep)
    elapsed = time.perf_counter() - started
    assert len(fake.ids) >= 50_000
    assert_exactly_once(res, expected_ids(fake), through_store=True)
    assert len(fake.requests) == math.ceil(len(fake.ids) / 1000)
    assert all(r.status == 200 for r in fake.requests)
    assert sleep.waits == []
    assert res.read_progress is not None and res.read_progress.pages == len(fake.requests)
    assert not caplog.records  # totalRecords matched the rows received
    print(f"\nplain read: {len(fake.ids):,} resources in {elapsed:.2f}s "
          f"({len(fake.ids) / elapsed:,.0f} resources/s)")  # fmt: skip


def test_the_temporary_file_lives_with_the_resources(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    subs = fake.all_subscriptions[:40]
    res = read(server, tls, subscriptions=subs)
    path = res._source
    assert isinstance(path, str) and os.path.exists(path)
    assert_exactly_once(res, expected_ids(fake, subs))
    del res
    gc.collect()
    assert not os.path.exists(path)


def test_page_size_is_sent_as_top(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    subs = fake.all_subscriptions[:50]
    res = read(server, tls, subscriptions=subs, page_size=250)
    want = expected_ids(fake, subs)
    assert_exactly_once(res, want)
    assert len(fake.requests) == math.ceil(len(want) / 250)


# -- throttling -------------------------------------------------------------------------------


def test_spent_quota_waits_for_the_reset_header(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(quota=2, window=0.6)
    subs = fake.all_subscriptions[:250]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert sleep.waits, "the quota ran out, so the reader had to wait"
    assert all(0 < w <= 0.6 for w in sleep.waits)
    assert [r.status for r in fake.requests].count(429) == 0
    no_early_requests(fake)


def test_whole_second_reset_header_is_obeyed(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    def whole(seconds: float) -> str:
        return f"00:00:{math.ceil(seconds):02d}"

    fake.reset(quota=3, window=1.0, reset_format=whole)
    subs = fake.all_subscriptions[:150]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert sleep.waits and all(0.5 < w <= 1.0 for w in sleep.waits)
    # after every reply that said the quota was spent, the next request came a second later
    spent = [i for i, r in enumerate(fake.requests[:-1]) if r.remaining == 0]
    assert spent
    for i in spent:
        assert fake.requests[i + 1].at - fake.requests[i].at >= 1.0
    no_early_requests(fake)


@pytest.mark.parametrize(
    "retry_after, low, high",
    [("0.3", 0.3, 0.31), ("1", 1.0, 1.01), ("date", 0.0, 2.01)],
    ids=["fractional-seconds", "seconds", "http-date"],
)
def test_429_honours_retry_after(
    server: Server,
    fake: FakeResourceGraph,
    tls: dict[str, str],
    retry_after: str,
    low: float,
    high: float,
) -> None:
    value = http_date(2) if retry_after == "date" else retry_after
    throttled = {
        "Retry-After": value,
        "x-ms-user-quota-remaining": "0",
        "x-ms-user-quota-resets-after": "00:00:00.100",
    }
    fake.reset(faults={3: Fault("status", 429, throttled)})
    subs = fake.all_subscriptions[:150]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert [r.status for r in fake.requests][:4] == [200, 200, 429, 200]
    assert len(sleep.waits) == 1 and low <= sleep.waits[0] <= high
    no_early_requests(fake)


def test_429_without_retry_after_uses_the_quota_reset(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    headers = {"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:00.250"}
    fake.reset(faults={2: Fault("status", 429, headers)})
    subs = fake.all_subscriptions[:100]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert sleep.waits and sleep.waits[0] == pytest.approx(0.25, abs=0.01)


# -- server errors and broken connections -----------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_with_jittered_backoff(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str], status: int
) -> None:
    fake.reset(faults={n: Fault("status", status) for n in (4, 5, 6, 12)})
    subs = fake.all_subscriptions[:600]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert [r.status for r in fake.requests].count(status) == 4
    # three backoffs in a row, each within [ceiling/2, ceiling] of a doubling ceiling
    first3 = sleep.waits[:3]
    for attempt, wait in enumerate(first3, start=1):
        ceiling = min(FAST.backoff_max, FAST.backoff_base * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len(sleep.waits) == 4


def test_503_with_retry_after_waits_that_long(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={2: Fault("status", 503, {"Retry-After": "0.4"})})
    subs = fake.all_subscriptions[:80]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert sleep.waits == [0.4]
    no_early_requests(fake)


def test_connection_dropped_mid_page_is_retried(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={n: Fault("drop") for n in (1, 7, 8, 13)})
    subs = fake.all_subscriptions[:600]
    sleep = SleepLog()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert len(sleep.waits) == 4
    assert res.read_progress is not None and res.read_progress.retries == 4


def test_slow_page_past_the_read_timeout_is_retried(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={3: Fault("slow", delay=1.5)})
    subs = fake.all_subscriptions[:150]
    res = read(server, tls, subscriptions=subs, read_timeout=0.5)
    assert_exactly_once(res, expected_ids(fake, subs))
    assert len(fake.requests) == math.ceil(len(expected_ids(fake, subs)) / 1000) + 1


def test_slow_page_within_the_timeout_is_simply_awaited(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={2: Fault("slow", delay=0.5)})
    subs = fake.all_subscriptions[:100]
    sleep = SleepLog()
    started = time.perf_counter()
    res = read(server, tls, subscriptions=subs, sleep=sleep)
    assert time.perf_counter() - started >= 0.5
    assert_exactly_once(res, expected_ids(fake, subs))
    assert sleep.waits == []


# -- skip tokens ------------------------------------------------------------------------------


def test_expired_skip_token_resumes_after_the_last_id(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={n: Fault("expire") for n in (5, 10, 11)})
    subs = fake.all_subscriptions[:600]
    res = read(server, tls, subscriptions=subs)
    assert_exactly_once(res, expected_ids(fake, subs))
    resumed = [r for r in fake.requests if "where id > " in r.query and r.token is None]
    assert len(resumed) == 2  # request 11 was the resumption itself: no token, no fault
    assert [r.status for r in fake.requests].count(400) == 2
    assert res.read_progress is not None and res.read_progress.resumed == 2


def test_every_skip_token_rejected_still_reads_everything_once(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    # a service that never honours a token: each page is reached by resuming after the last id
    fake.reset(fault_when=lambda n, body: Fault("expire"))
    subs = fake.all_subscriptions[:100]
    want = expected_ids(fake, subs)
    res = read(server, tls, subscriptions=subs)
    assert_exactly_once(res, want)
    pages = math.ceil(len(want) / 1000)
    assert res.read_progress is not None and res.read_progress.resumed == pages - 1
    assert len(fake.requests) == 2 * pages - 1


# -- subscription batching --------------------------------------------------------------------


def test_more_subscriptions_than_one_request_allows_are_batched(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    subs = [*fake.all_subscriptions, "ffffffff-0000-4000-8000-00000000dead"]
    assert len(subs) > 2000
    res = read(server, tls, subscriptions=[s.upper() for s in subs] + subs[:10])
    assert_exactly_once(res, expected_ids(fake))
    sizes = sorted({r.subscriptions for r in fake.requests}, reverse=True)
    assert sizes[0] == 1000 and all(s <= 1000 for s in sizes)
    assert res.read_progress is not None and res.read_progress.batches == 3


def test_tenant_over_the_subscription_limit_asks_for_explicit_subscriptions(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(extra_headers={"x-ms-tenant-subscription-limit-hit": "true"})
    with pytest.raises(ResourceGraphError, match=r"pass `subscriptions=`.* read 0 pages"):
        read(server, tls)
    assert len(fake.requests) == 1


def test_subscriptions_and_management_groups_together_are_refused(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="not both"):
        read(server, tls, subscriptions=["a"], management_groups=["mg"])
    assert fake.requests == []


def test_the_fake_refuses_over_1000_subscriptions(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    # the fake enforces the limit, so the batching test above is meaningful
    status, body = fake.page(
        {"subscriptions": fake.all_subscriptions[:1001], "query": DEFAULT_QUERY, "options": {}}
    )
    assert status == 400 and "exceeds the limit" in body["error"]["message"]


# -- beyond the budget, and refusals ----------------------------------------------------------


def test_fault_beyond_the_retry_budget_names_how_far_it_got(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(fault_when=lambda n, body: Fault("status", 503) if n >= 3 else None)
    with pytest.raises(ResourceGraphError) as info:
        read(server, tls)
    err = info.value
    assert isinstance(err, azsecmap.ResourceError)
    msg = str(err)
    assert "HTTP 503 after 4 retries" in msg
    assert "read 2 pages, 2000 resources" in msg
    assert f"last id `{fake.ids[1999]}`" in msg
    assert "batch 1 of 1" in msg
    assert err.progress.pages == 2 and err.progress.resources == 2000
    assert len(fake.requests) == 2 + 1 + FAST.max_retries


def test_time_budget_stops_before_a_long_wait(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(faults={2: Fault("status", 429, {"Retry-After": "30"})})
    started = time.perf_counter()
    with pytest.raises(ResourceGraphError, match=r"throttled .* 20s budget"):
        read(server, tls, subscriptions=fake.all_subscriptions[:100])
    assert time.perf_counter() - started < 5


def test_dropped_connections_beyond_the_budget_raise(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    fake.reset(fault_when=lambda n, body: Fault("drop") if n >= 2 else None)
    subs = fake.all_subscriptions[:100]
    with pytest.raises(ResourceGraphError, match=r"connection failed .* read 1 pages, 1000 res"):
        read(server, tls, subscriptions=subs)


def test_unsupported_query_is_refused_without_retries(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    with pytest.raises(ResourceGraphError, match="HTTP 400 `InvalidQuery`"):
        read(server, tls, query="resources | project id, type | take 5")
    assert len(fake.requests) == 1


def test_wrong_token_is_refused(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str]
) -> None:
    with pytest.raises(ResourceGraphError, match="HTTP 401"):
        azsecmap.Resources.from_resource_graph(
            StaticTokenCredential("not-the-token"),
            endpoint=server.endpoint,
            connection_verify=tls["ca"],
        )


# -- secrets ----------------------------------------------------------------------------------


def test_no_token_or_authorization_header_in_logs_errors_or_output(
    server: Server,
    fake: FakeResourceGraph,
    tls: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.reset(faults={2: Fault("status", 503), 3: Fault("drop"), 5: Fault("expire")})
    subs = fake.all_subscriptions[:300]
    res = read(server, tls, subscriptions=subs, progress=True, logging_enable=True)
    assert_exactly_once(res, expected_ids(fake, subs))
    fake.reset(fault_when=lambda n, body: Fault("status", 500))
    with pytest.raises(ResourceGraphError) as info:
        read(server, tls, subscriptions=subs, logging_enable=True)
    out = capsys.readouterr()
    written = "\n".join(
        [caplog.text, out.out, out.err, str(info.value), repr(info.value), res.origin]
    )
    assert "Request URL" in caplog.text  # azure-core's HTTP logging did run
    assert "resources" in out.out + out.err  # the progress bar did render
    assert TOKEN not in written and TOKEN[-12:] not in written
    assert "Bearer" not in written and "bearer " not in written
    # the resources themselves mention Microsoft.Authorization; a header would be a key
    assert not re.search(r"(?im)['\"]?\bauthorization['\"]?\s*:", written)


# -- the result feeds the evaluator -----------------------------------------------------------


def test_read_resources_evaluate_like_the_same_rows_from_a_file(
    server: Server, fake: FakeResourceGraph, tls: dict[str, str], tmp_path: Path
) -> None:
    subs = fake.all_subscriptions[:400]
    res = read(server, tls, subscriptions=subs)
    policy = {
        "name": "storage-https-only",
        "properties": {
            "mode": "Indexed",
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                        {
                            "field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
                            "notEquals": True,
                        },
                    ]
                },
                "then": {"effect": "audit"},
            },
        },
    }
    (tmp_path / "p.json").write_text(json.dumps(policy))
    pack = azsecmap.PolicyPack.from_files([tmp_path / "p.json"])
    wanted = set(expected_ids(fake, subs))
    direct = tmp_path / "direct.ndjson"
    direct.write_bytes(
        b"\n".join(ln for i, ln in zip(fake.ids, fake.lines, strict=True) if i in wanted) + b"\n"
    )
    got = azsecmap.evaluate(pack, res).results.sort("resource_id")
    ref = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(direct)).results
    assert got.height > 0 and "non_compliant" in got["state"].to_list()
    assert got.equals(ref.sort("resource_id"))


# -- header parsing ---------------------------------------------------------------------------


def test_header_values_parse() -> None:
    assert parse_timespan("00:00:03") == 3
    assert parse_timespan("01:02:03.5") == 3723.5
    assert parse_timespan("1.00:00:01") == 86401
    assert parse_timespan("soon") is None
    assert parse_retry_after("7") == 7
    assert parse_retry_after("-1") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0
    assert parse_retry_after("whenever") is None


# -- the command line -------------------------------------------------------------------------


def test_cli_without_credentials_exits_2_and_writes_nothing(
    server: Server, fake: FakeResourceGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DefaultAzureCredential limited to the environment, with no secrets in it: no token
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    out = tmp_path / "tenant.ndjson"
    result = CliRunner().invoke(
        app,
        ["resource-graph", "--out", str(out), "--endpoint", server.endpoint, "--no-progress"],
    )
    assert result.exit_code == 2, result.output
    assert "cannot get a token" in result.output
    assert not out.exists()
    assert fake.requests == []  # nothing was sent without a token
