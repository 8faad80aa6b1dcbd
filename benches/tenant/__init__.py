"""Whole-tenant benchmark (issue 3): azsecmap against peers over one NDJSON tenant.

`packs` picks the policy packs, `interp` / `peer_polars` / `peer_duckdb` are the peers,
`worker` runs one contender once (in its own process, so peak RSS is its own), `run` is the
command line that repeats every contender and prints the table.
"""
