//! Reading the Parquet export back, independently of the hub's writer: with the parquet
//! crate (each typed value printed as REDCap's CSV prints it) and with DuckDB.

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

fn read(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// A typed cell printed as the CSV has it (`None`: null).
fn printed(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a
            .as_any()
            .downcast_ref::<StringArray>()?
            .value(i)
            .to_owned(),
        DataType::Int64 => a
            .as_any()
            .downcast_ref::<Int64Array>()?
            .value(i)
            .to_string(),
        DataType::Float64 => a
            .as_any()
            .downcast_ref::<Float64Array>()?
            .value(i)
            .to_string(),
        DataType::Boolean => {
            if a.as_any().downcast_ref::<BooleanArray>()?.value(i) {
                "1".into()
            } else {
                "0".into()
            }
        }
        DataType::Date32 => {
            let days = a.as_any().downcast_ref::<Date32Array>()?.value(i);
            (chrono::NaiveDate::from_ymd_opt(1970, 1, 1)? + chrono::Days::new(days as u64))
                .format("%Y-%m-%d")
                .to_string()
        }
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            let ms = a
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()?
                .value(i);
            chrono::DateTime::from_timestamp_millis(ms)?
                .naive_utc()
                .format("%Y-%m-%d %H:%M")
                .to_string()
        }
        other => panic!("unexpected type {other}"),
    })
}

fn same(typed: &str, csv: &str, t: &DataType) -> bool {
    match t {
        DataType::Float64 => csv.parse::<f64>().ok() == typed.parse::<f64>().ok(),
        _ => typed == csv,
    }
}

/// Every CSV cell equals its Parquet cell (or, null there, the `__missing` companion's
/// text); the rows and the CSV's columns are the same, in order. Returns the cells compared.
pub fn parquet_equals_csv(pq: &Path, csv: &str) -> usize {
    let rows = kakehashi_edc::flat::read_csv(csv).unwrap();
    let header: Vec<String> = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let batches = read(pq);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| !n.ends_with("__missing"))
        .collect();
    assert_eq!(names, header, "the CSV's columns, in order");
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(total, rows.len(), "rows");
    let mut compared = 0;
    let mut row = 0;
    for b in &batches {
        for i in 0..b.num_rows() {
            let want = &rows[row];
            for c in &header {
                let col = b.column_by_name(c).unwrap();
                let text = want.get(c).map_or("", String::as_str);
                match printed(col.as_ref(), i) {
                    Some(t) => assert!(
                        same(&t, text, col.data_type()),
                        "row {row} column {c}: parquet {t:?}, csv {text:?}"
                    ),
                    None => {
                        let kept = b
                            .column_by_name(&format!("{c}__missing"))
                            .and_then(|m| printed(m.as_ref(), i))
                            .unwrap_or_default();
                        assert_eq!(kept, text, "row {row} column {c}: null, csv {text:?}");
                    }
                }
                compared += 1;
            }
            row += 1;
        }
    }
    compared
}

/// The columns are typed from the dictionary, and the labels are in the metadata.
pub fn types_and_labels(pq: &Path) {
    let batches = read(pq);
    let f = std::fs::File::open(pq).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .schema()
        .clone();
    let t = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(t("record_id"), DataType::Utf8);
    assert_eq!(t("v000"), DataType::Int64);
    assert_eq!(t("v000__missing"), DataType::Utf8);
    assert_eq!(t("v001"), DataType::Float64);
    assert_eq!(t("v002"), DataType::Date32);
    assert_eq!(t("v003"), DataType::Timestamp(TimeUnit::Millisecond, None));
    assert_eq!(t("v004"), DataType::Utf8);
    assert_eq!(t("v007___1"), DataType::Boolean);
    assert_eq!(t("v010"), DataType::Float64);
    assert_eq!(t("crf_complete"), DataType::Int64);
    let labels = schema.field_with_name("v004").unwrap().metadata()["labels"].clone();
    assert_eq!(labels, r#"{"1":"Mild","2":"Moderate","3":"Severe"}"#);
    let all = &schema.metadata()["kakehashi.labels"];
    assert!(all.contains(r#""v006":{"1":"Yes","0":"No"}"#), "{all}");
    // some UNK in a whole-number field: null there, kept beside
    let b = &batches[0];
    let m = b.column_by_name("v000__missing").unwrap();
    let kept: Vec<&str> = m.as_string::<i32>().iter().flatten().collect();
    assert!(
        !kept.is_empty() && kept.iter().all(|k| *k == "UNK"),
        "{kept:?}"
    );
    assert!(
        schema
            .fields()
            .iter()
            .any(|f| f.name().ends_with("___nask") && f.data_type() == &DataType::Boolean),
        "a checkbox's missing-data option is a boolean column"
    );
}

/// DuckDB (Python) reads the file: the same rows, and each cell printed as the CSV has it.
pub fn duckdb_reads_the_same(pq: &Path, csv: &Path) {
    let have = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("KAKEHASHI_REQUIRE_DUCKDB").as_deref() != Ok("1"),
            "KAKEHASHI_REQUIRE_DUCKDB=1 but DuckDB is not installed (pip install duckdb)"
        );
        eprintln!("SKIPPED: DuckDB check (pip install duckdb)");
        return;
    }
    let script = r#"
import csv, sys, duckdb, datetime
pq, path = sys.argv[1], sys.argv[2]
con = duckdb.connect()
rel = con.execute(f"select * from read_parquet('{pq}')")
cols = [d[0] for d in rel.description]
rows = rel.fetchall()
with open(path, newline='') as f:
    want = list(csv.DictReader(f))
assert len(rows) == len(want), (len(rows), len(want))
def show(v):
    if v is None: return None
    if isinstance(v, bool): return '1' if v else '0'
    if isinstance(v, datetime.datetime): return v.strftime('%Y-%m-%d %H:%M')
    if isinstance(v, datetime.date): return v.strftime('%Y-%m-%d')
    return str(v)
n = 0
for r, w in zip(rows, want):
    got = dict(zip(cols, r))
    for c, text in w.items():
        v = show(got[c])
        if v is None:
            v = show(got.get(c + '__missing')) or ''
        if isinstance(got[c], float):
            assert float(text) == got[c], (c, v, text)
        else:
            assert v == text, (c, v, text)
        n += 1
print(f"duckdb {duckdb.__version__}: {len(rows)} rows, {n} cells equal")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(pq)
        .arg(csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "DuckDB: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
}
