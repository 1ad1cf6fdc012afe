#!/usr/bin/env bash
# The EDC benchmark: a generated 600-item study dictionary (whole numbers and decimals with
# ranges, dates, date-times, radios, dropdowns, yes/no, checkboxes, text, notes, calculations;
# every fifth item behind branching) on a real hub (HTTP on loopback, SQLite):
#  - saving the 600-item form through `PUT /api/studies/{id}/subjects/.../forms/...`: SAVES
#    first saves (a new subject each) and SAVES edits of ten values, p50/p95 (target p50 < 50 ms);
#  - exporting SUBJECTS subjects x 600 items through `GET .../records/export?format=` csv,
#    parquet and odm (with the audit trail), RUNS runs each: median time and size.
# Peer in the same run: DuckDB (Python) reading the hub's CSV export and writing the same table
# as CSV and as Parquet, RUNS runs each, medians and sizes.
#
#   bench/edc.sh [SUBJECTS] [RUNS] [SAVES]     (default 10000 5 50)
#
# PROFILE=release for a release build (default: the debug test build; BENCHMARKS.md says which).
# The hub side is the ignored test `edc_bench` in crates/hub/tests/edc_export/bench.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBJECTS=${1:-10000}
RUNS=${2:-5}
SAVES=${3:-50}
PROFILE=${PROFILE:-debug}
WORK=$(mktemp -d /tmp/kh-bench-edc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import duckdb" 2>/dev/null || { echo "DuckDB is needed for the peer: pip install duckdb"; exit 1; }
REL=
[ "$PROFILE" = release ] && REL=--release

echo "== kakehashi hub ($PROFILE build): $SAVES saves, $SUBJECTS subjects x 600 items, $RUNS export runs"
EDC_BENCH_SUBJECTS=$SUBJECTS EDC_BENCH_RUNS=$RUNS EDC_BENCH_SAVES=$SAVES EDC_BENCH_OUT=$WORK \
  cargo test $REL -q -p kakehashi-hub --test edc_export -- --ignored --nocapture edc_bench 2>&1 \
  | grep '^edc-bench' | sed 's/^edc-bench /   /'

echo "== DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)') on the same table (the hub's CSV export, read with types inferred)"
python3 - "$WORK" "$RUNS" <<'PY'
import os, statistics, sys, time
import duckdb
w, runs = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute("SET threads = 2")
src = f"{w}/records.csv"
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{src}', header=true, sample_size=-1)")
rows, cols = con.execute("SELECT count(*) FROM t").fetchone()[0], len(con.execute("SELECT * FROM t LIMIT 0").description)
print(f"   table: {rows} rows x {cols} columns (loaded once, not timed)")
def timed(sql, out):
    ts = []
    for _ in range(runs):
        if os.path.exists(out): os.remove(out)
        t = time.perf_counter(); con.execute(sql); ts.append(time.perf_counter() - t)
    ts.sort()
    return statistics.median(ts), ts[0], ts[-1], os.path.getsize(out) / 1e6
for name, fmt in (("csv", "(FORMAT csv, HEADER)"), ("parquet", "(FORMAT parquet, COMPRESSION snappy)")):
    out = f"{w}/duck.{name}"
    med, lo, hi, mb = timed(f"COPY t TO '{out}' {fmt}", out)
    print(f"   DuckDB write {name}: median={med:.2f} s min={lo:.2f} s max={hi:.2f} s size={mb:.1f} MB")
# reading the hub's Parquet back, as an analyst would
ts = []
for _ in range(runs):
    t = time.perf_counter(); con.execute(f"SELECT count(*) FROM read_parquet('{w}/records.parquet')").fetchone(); ts.append(time.perf_counter() - t)
print(f"   DuckDB count(*) over the hub's Parquet: median={statistics.median(ts)*1000:.1f} ms")
PY
