"""Read a generated tenant through `Resources.from_resource_graph` from the test suite's fake
Resource Graph server and print resources/s and the waits against the quota headers.

    python scripts/measure_resource_graph.py --resources 200000 --quota 15 --window 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import trustme

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_arg import FakeResourceGraph, Server, StaticTokenCredential

import azsecmap
from azsecmap import _core

TOKEN = "measure-token-0123456789"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=200_000)
    ap.add_argument("--subscriptions", type=int, default=2_400)
    ap.add_argument("--quota", type=int, default=1000, help="queries per window")
    ap.add_argument("--window", type=float, default=5.0, help="quota window, seconds")
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp())
    _core.write_sample(str(d / "t.ndjson"), args.resources, 6)
    rows = []
    for i, ln in enumerate((d / "t.ndjson").read_bytes().splitlines()):
        doc = json.loads(ln)
        sub = f"{i % args.subscriptions:08x}-0000-4000-8000-00000000a76f"
        old = doc["id"].split("/")[2]
        doc["id"] = doc["id"].replace(f"/subscriptions/{old}", f"/subscriptions/{sub}", 1)
        doc["subscriptionId"] = sub
        rows.append((doc["id"], sub, json.dumps(doc).encode()))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    (d / "chain.pem").write_bytes(b"".join(b.bytes() for b in cert.cert_chain_pems))
    state = FakeResourceGraph(rows, TOKEN)
    state.reset(quota=args.quota, window=args.window)
    srv = Server(state, str(d / "chain.pem"), str(d / "key.pem"))
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        time.sleep(s)

    t = time.perf_counter()
    res = azsecmap.Resources.from_resource_graph(
        StaticTokenCredential(TOKEN),
        subscriptions=state.all_subscriptions,
        endpoint=srv.endpoint,
        connection_verify=str(d / "ca.pem"),
        sleep=sleep,
    )
    elapsed = time.perf_counter() - t
    srv.close()
    got = [json.loads(line)["id"] for line in open(res._source, "rb")]  # noqa: SIM115
    statuses = [r.status for r in state.requests]
    print(
        f"{len(got):,} resources, {len(state.requests)} requests in {elapsed:.1f}s "
        f"= {len(got) / elapsed:,.0f} resources/s; exactly once: "
        f"{len(got) == len(set(got)) and sorted(got) == state.ids}; "
        f"429s: {statuses.count(429)}; early requests: {sum(r.early for r in state.requests)}; "
        f"quota waits: {len(waits)} totalling {sum(waits):.1f}s "
        f"(max {max(waits, default=0):.2f}s, window {args.window}s)"
    )


if __name__ == "__main__":
    main()
