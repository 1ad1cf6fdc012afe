"""The peer side of bench/surveillance.sh: weekly SARI stays with DuckDB over a site's segments.

Inpatient encounters (class IMP) with any ICD-10 J09–J22 diagnosis, counted by the ISO week of
admission. Prints: seconds, weeks, stays.
"""
import glob
import sys
import time

import duckdb

site = sys.argv[1]
enc = glob.glob(f"{site}/segments/*/encounter.parquet")
cond = glob.glob(f"{site}/segments/*/condition.parquet")
con = duckdb.connect()
t = time.perf_counter()
rows = con.execute(
    """
    WITH sari AS (
      SELECT DISTINCT encounter_id FROM read_parquet(?)
      WHERE code_system LIKE '%icd-10%' AND substr(code, 1, 3) BETWEEN 'J09' AND 'J22'
    ), stays AS (
      SELECT DISTINCT e.id, e.period_start FROM read_parquet(?) e JOIN sari s ON s.encounter_id = e.id
      WHERE e.class_code = 'IMP'
    )
    SELECT isoyear(period_start) AS y, week(period_start) AS w, count(*) FROM stays GROUP BY ALL
    """,
    [cond, enc],
).fetchall()
elapsed = time.perf_counter() - t
print(f"{elapsed:.2f} {len(rows)} {sum(r[2] for r in rows)}")
