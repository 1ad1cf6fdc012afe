"""The peer side of bench/amr_site.sh: DuckDB over a site's Parquet segments.

First isolate per patient and organism (CLSI M39, whole period) by window function, then
counts of the lab's own interpretation per organism and drug. Prints the seconds taken.
"""
import glob
import sys
import time

import duckdb

site = sys.argv[1]
iso = glob.glob(f"{site}/segments/*/microbiology_isolate.parquet")
sus = glob.glob(f"{site}/segments/*/microbiology_susceptibility.parquet")
con = duckdb.connect()
t = time.perf_counter()
rows = con.execute(
    """
    WITH iso AS (
      SELECT DISTINCT id, patient_id, organism_code, effective_date_time
      FROM read_parquet(?) WHERE organism_system = 'http://snomed.info/sct'
    ), firsts AS (
      SELECT id, organism_code FROM (
        SELECT id, organism_code, row_number() OVER (PARTITION BY patient_id, organism_code
                                                     ORDER BY effective_date_time, id) AS k
        FROM iso) WHERE k = 1
    ), tests AS (
      SELECT DISTINCT id, isolate_id, code, interpretation_code
      FROM read_parquet(?) WHERE code_system = 'http://www.whocc.no/atc'
    )
    SELECT f.organism_code, t.code, t.interpretation_code, count(*)
    FROM firsts f JOIN tests t ON t.isolate_id = f.id
    GROUP BY ALL
    """,
    [iso, sus],
).fetchall()
elapsed = time.perf_counter() - t
assert rows, "no rows"
print(f"{elapsed:.2f}")
