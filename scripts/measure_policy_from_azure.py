"""Time `PolicyPack.from_azure` on Microsoft's real MCSB initiative served by the fake endpoint.

Run from the repository root (needs the `test` extra and ../shared/data):

    python scripts/measure_policy_from_azure.py

Prints the initiative's size, then for 1 and 8 definition-fetching threads the policies read,
the requests the fake server answered and the wall time, then one evaluation over the sample.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_arg import FakeResourceGraph, Server, StaticTokenCredential
from tests.fake_policy import FakePolicy, policy_handler

import azsecmap

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "azure-policy"
TOKEN = "measure-token"
MG = "/providers/Microsoft.Management/managementGroups/contoso"
S1 = "/subscriptions/1a2b3c4d-0000-4000-8000-000000000001"


def main() -> None:
    defs: dict[str, Any] = {}
    for f in (DATA / "policyDefinitions").rglob("*.json"):
        d = json.loads(f.read_text("utf-8"))
        defs[d["id"].lower()] = d
    mcsb = json.loads(
        (DATA / "policySetDefinitions" / "Security Center" / "AzureSecurityCenter.json").read_text()
    )
    members = [m["policyDefinitionId"].lower() for m in mcsb["properties"]["policyDefinitions"]]
    served = [mcsb, *(defs[m] for m in set(members) if m in defs)]
    assignment = {
        "id": f"{MG}/providers/Microsoft.Authorization/policyAssignments/mcsb",
        "name": "mcsb",
        "properties": {"policyDefinitionId": mcsb["id"], "scope": MG, "parameters": {}},
    }
    state = FakePolicy(TOKEN, {S1.split("/")[2]: "contoso"}, served, [assignment], [], 100)
    tmp = Path(tempfile.mkdtemp())
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    with open(tmp / "chain.pem", "wb") as fh:
        for blob in cert.cert_chain_pems:
            fh.write(blob.bytes())
    srv = Server(
        FakeResourceGraph([], TOKEN),
        str(tmp / "chain.pem"),
        str(tmp / "key.pem"),
        handler=policy_handler(state),
    )
    print(f"MCSB initiative: {len(members)} members, {len(set(members) - defs.keys())} missing")
    pack = None
    for workers in (1, 8):
        state.reset()
        t = time.perf_counter()
        pack = azsecmap.PolicyPack.from_azure(
            StaticTokenCredential(TOKEN),
            S1,
            srv.endpoint,
            workers=workers,
            connection_verify=str(tmp / "ca.pem"),
        )
        took = time.perf_counter() - t
        print(
            f"workers={workers}: {len(pack)} policies, {len(state.requests)} requests, {took:.2f}s"
        )
    srv.close()
    assert pack is not None
    res = azsecmap.Resources.sample(3000, seed=1)
    t = time.perf_counter()
    ev = azsecmap.evaluate(pack, res, exemptions=pack.exemptions)
    took = time.perf_counter() - t
    print(f"evaluate 3,000 sample resources: {ev.results.height} rows in {took:.2f}s")
    print("not evaluated:", Counter(m.split(" (at")[0] for _, m in ev.policy_errors))


if __name__ == "__main__":
    main()
