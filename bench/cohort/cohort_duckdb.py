"""DuckDB on the same Parquet files: p50/p95 of the three benchmark queries; prints JSON."""
import glob, json, os, statistics, sys, time
import duckdb

site, reps = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute("PRAGMA threads=2")
for view in ["patient", "condition", "observation"]:
    files = sorted(glob.glob(os.path.join(site, "segments", "*", f"{view}.parquet")))
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({files!r})")
text = open(os.path.join(os.path.dirname(__file__), "queries.sql")).read()
out = {}
for block in text.split("-- name: ")[1:]:
    name, sql = block.split("\n", 1)
    sql = sql.strip().rstrip(";")
    times, n = [], None
    for i in range(reps + 1):
        t = time.perf_counter()
        n = con.execute(sql).fetchone()[0]
        if i:  # first run warms the file cache
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[name.strip()] = {"count": n, "p50_ms": statistics.median(times), "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))]}
print(json.dumps(out))
