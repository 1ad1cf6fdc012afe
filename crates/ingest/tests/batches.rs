//! What a load stores is what the views say, row for row, however the input is cut into chunks
//! and the rows gathered into batches: every stored row equals a row of the interpreter
//! (`ViewDefinition::eval_with`) over the same resource, its `_ord` names the line it came from,
//! and a rejected resource has no rows in any view.

use arrow::array::{Array, RecordBatch, UInt32Array};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use kakehashi_fhir::ingest::{BatchBuilder, Mode, Parser, standard_views};
use kakehashi_ingest::{IngestOptions, ingest};
use kakehashi_model::View;
use kakehashi_store::Store;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;

/// A small deterministic generator (no dependency for a test's variety).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// One NDJSON line per resource: patients, encounters, lab and coded observations, observations
/// with components, microbiology isolates and susceptibility results, and a few broken records.
fn records(n: usize) -> Vec<String> {
    let mut rng = Lcg(7);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let p = format!("p{}", i % 97);
        let meta = r#""meta":{"lastUpdated":"2026-01-02T03:04:05Z"}"#;
        let line = match rng.below(9) {
            0 => format!(
                r#"{{"resourceType":"Patient","id":"{p}-{i}",{meta},"gender":"female","birthDate":"19{:02}-0{}-1{}"}}"#,
                rng.below(100),
                1 + rng.below(9),
                rng.below(10)
            ),
            1 => format!(
                r#"{{"resourceType":"Encounter","id":"e{i}",{meta},"status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}},"subject":{{"reference":"Patient/{p}"}},"period":{{"start":"2025-03-0{}T10:00:00+01:00","end":"2025-03-1{}"}}}}"#,
                1 + rng.below(9),
                rng.below(10)
            ),
            2 => format!(
                r#"{{"resourceType":"Observation","id":"o{i}",{meta},"status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{}-3","display":"Lab {i}"}},{{"system":"urn:jlac10","code":"3A0{}"}}]}},"subject":{{"reference":"Patient/{p}"}},"effectiveDateTime":"2025-04-0{}T08:00:00Z","valueQuantity":{{"value":{}.{},"unit":"mg/L","system":"http://unitsofmeasure.org","code":"mg/L"}}}}"#,
                rng.below(5000),
                rng.below(10),
                1 + rng.below(9),
                rng.below(300),
                rng.below(10)
            ),
            3 => format!(
                r#"{{"resourceType":"Observation","id":"o{i}",{meta},"status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"85354-9"}}]}},"subject":{{"reference":"Patient/{p}"}},"effectivePeriod":{{"start":"2025-05-01"}},"component":[{{"code":{{"coding":[{{"system":"http://loinc.org","code":"8480-6"}}]}},"valueQuantity":{{"value":{},"unit":"mm[Hg]"}}}},{{"code":{{"coding":[{{"system":"http://loinc.org","code":"8462-4"}}]}},"valueQuantity":{{"value":{}}}}}]}}"#,
                100 + rng.below(60),
                60 + rng.below(40)
            ),
            4 => format!(
                r#"{{"resourceType":"Observation","id":"iso{i}",{meta},"status":"final","category":[{{"coding":[{{"system":"http://loinc.org","code":"18725-2"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"634-6"}}]}},"subject":{{"reference":"Patient/{p}"}},"specimen":{{"reference":"Specimen/s{i}"}},"effectiveDateTime":"2025-06-0{}","valueCodeableConcept":{{"coding":[{{"system":"http://snomed.info/sct","code":"11225800{}","display":"Organism {}"}}]}}}}"#,
                1 + rng.below(9),
                rng.below(10),
                rng.below(10)
            ),
            5 => format!(
                r#"{{"resourceType":"Observation","id":"ast{i}",{meta},"status":"final","category":[{{"coding":[{{"system":"http://loinc.org","code":"18725-2"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"18906-8","display":"Ciprofloxacin [Susceptibility]"}}]}},"subject":{{"reference":"Patient/{p}"}},"derivedFrom":[{{"reference":"Observation/iso{}"}}],"valueQuantity":{{"value":0.{},"comparator":"<=","unit":"mg/L","system":"http://unitsofmeasure.org","code":"mg/L"}},"interpretation":[{{"coding":[{{"code":"{}"}}]}}]}}"#,
                i.saturating_sub(1),
                1 + rng.below(9),
                ["S", "I", "R"][rng.below(3) as usize]
            ),
            6 => format!(
                r#"{{"resourceType":"Condition","id":"c{i}",{meta},"code":{{"coding":[{{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"A9{}.0"}}]}},"subject":{{"reference":"Patient/{p}"}},"recordedDate":"2025-02-1{}"}}"#,
                rng.below(10),
                rng.below(10)
            ),
            // rejected: a date that is not a date (the parser accepts the JSON, a view refuses it)
            7 if rng.below(4) == 0 => format!(
                r#"{{"resourceType":"Observation","id":"bad{i}",{meta},"status":"final","code":{{"coding":[{{"code":"x"}}]}},"effectiveDateTime":"2025-13-45"}}"#
            ),
            // rejected: cut short
            7 if rng.below(3) == 0 => {
                format!(r#"{{"resourceType":"Observation","id":"cut{i}","status":"fin"#)
            }
            _ => format!(
                r#"{{"resourceType":"Observation","id":"s{i}",{meta},"status":"amended","code":{{"text":"free"}},"valueString":"text {i}","issued":"2025-07-07T07:07:07.123+09:00"}}"#
            ),
        };
        out.push(line);
    }
    out
}

/// Each row of `batch` as one line of text (all columns but `skip`, in order).
fn lines(batch: &RecordBatch, skip: &[&str]) -> Vec<String> {
    let opts = FormatOptions::default().with_null("∅");
    let cols: Vec<_> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !skip.contains(&f.name().as_str()))
        // instants as their microseconds (naming the zone `UTC` would need the time zone database)
        .map(|(_, c)| match c.data_type() {
            DataType::Timestamp(..) => arrow::compute::cast(c, &DataType::Int64).unwrap(),
            _ => c.clone(),
        })
        .collect();
    let cols: Vec<_> = cols
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    (0..batch.num_rows())
        .map(|r| {
            cols.iter()
                .map(|c| c.value(r).to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

/// What the interpreter makes of each line, by view: the rows (as text) of every resource that
/// every view of its type accepts, each with its line number.
fn expected(records: &[String]) -> BTreeMap<View, Vec<(u32, String)>> {
    let views = standard_views();
    let mut parser = Parser::new();
    let mut out: BTreeMap<View, Vec<(u32, String)>> = BTreeMap::new();
    for (ord, line) in records.iter().enumerate() {
        let rows: Option<Vec<(View, Vec<String>)>> =
            parser.parse(line.as_bytes(), true, |parsed| {
                let (v, rt, _) = parsed.ok()?;
                let mut all = Vec::new();
                for (view, def) in views.iter().filter(|(view, _)| view.resource() == rt) {
                    let mut rows = Vec::new();
                    def.eval_with(v, &mut rows, true).ok()?;
                    let mut b = BatchBuilder::new(def, Mode::Typed);
                    for row in &rows {
                        b.push(row).ok()?;
                    }
                    all.push((*view, lines(&b.finish(), &[])));
                }
                Some(all)
            });
        for (view, texts) in rows.unwrap_or_default() {
            out.entry(view)
                .or_default()
                .extend(texts.into_iter().map(|t| (ord as u32, t)));
        }
    }
    out
}

#[test]
fn stored_rows_are_the_views_rows_whatever_the_chunks_and_batches() {
    let recs = records(6000);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.ndjson");
    std::fs::write(&input, recs.join("\n") + "\n").unwrap();
    let want = expected(&recs);
    assert!(
        want.len() >= 6,
        "the sample reaches the views: {:?}",
        want.keys().collect::<Vec<_>>()
    );

    // chunks of about 64 KiB (the reader's smallest) and batches of 50 rows: many of both, each
    // worker handing on full batches mid-load and what is left at the end; then one batch per
    // worker for the whole load
    for (k, batch_rows) in [50, 1 << 20].into_iter().enumerate() {
        let site = dir.path().join(format!("site{k}"));
        let opts = IngestOptions {
            chunk_bytes: 1,
            threads: 2,
            batch_rows,
            ..IngestOptions::default()
        };
        let summary = ingest(&site, std::slice::from_ref(&input), &opts, &|_| {}).unwrap();
        let rejected_lines = recs.len() as u64
            - want
                .values()
                .flatten()
                .map(|(ord, _)| *ord)
                .collect::<std::collections::BTreeSet<_>>()
                .len() as u64;
        assert!(
            summary.rejected > 0 && summary.rejected <= rejected_lines,
            "{} rejected",
            summary.rejected
        );
        let snap = Store::open(&site).current().unwrap();
        for (view, _) in standard_views() {
            let mut got: Vec<(u32, String)> = Vec::new();
            for file in snap.files(*view) {
                let reader =
                    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
                        .unwrap()
                        .build()
                        .unwrap();
                for batch in reader {
                    let batch = batch.unwrap();
                    let ords = batch
                        .column_by_name("_ord")
                        .unwrap()
                        .as_any()
                        .downcast_ref::<UInt32Array>()
                        .unwrap()
                        .clone();
                    got.extend(
                        lines(&batch, &["_seg", "_ord"])
                            .into_iter()
                            .enumerate()
                            .map(|(r, t)| (ords.value(r), t)),
                    );
                }
            }
            got.sort();
            let mut exp = want.get(view).cloned().unwrap_or_default();
            exp.sort();
            assert_eq!(
                got.len(),
                exp.len(),
                "{}: {} rows stored, the interpreter makes {} (batch_rows {batch_rows})",
                view.name(),
                got.len(),
                exp.len()
            );
            assert_eq!(got, exp, "{} (batch_rows {batch_rows})", view.name());
            assert_eq!(
                summary.rows.get(view).copied().unwrap_or(0),
                exp.len() as u64,
                "{}: summary",
                view.name()
            );
        }
    }
}
