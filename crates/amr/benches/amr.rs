//! Interpretations per second on 10 million MICs, and the antibiogram of a 1,000,000-isolate
//! site (in memory: the amr crate's part; reading the store is the engine's).
//!
//! Run: CARGO_TARGET_DIR=/work/targets/amr cargo bench -p kakehashi-amr --bench amr
//! Writes the same MICs to /tmp/amr-bench-mics.csv (first 1,000,000) for the R AMR peer
//! (bench/amr_peer.R).

use kakehashi_amr::antibiogram::antibiogram;
use kakehashi_amr::breakpoints::Method;
use kakehashi_amr::value::Mic;
use kakehashi_amr::{
    AntibiogramSpec, InfectionSite, Interpreter, Isolate, Measurement, Options, Reference, Sir,
    Test,
};
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::time::Instant;

const PAIRS: [(&str, &str); 19] = [
    ("B_ESCHR_COLI", "AMP"),
    ("B_ESCHR_COLI", "CTX"),
    ("B_ESCHR_COLI", "CAZ"),
    ("B_ESCHR_COLI", "MEM"),
    ("B_ESCHR_COLI", "CIP"),
    ("B_ESCHR_COLI", "GEN"),
    ("B_KLBSL_PNMN", "CTX"),
    ("B_KLBSL_PNMN", "MEM"),
    ("B_KLBSL_PNMN", "CIP"),
    ("B_KLBSL_PNMN", "TZP"),
    ("B_PSDMN_AERG", "MEM"),
    ("B_PSDMN_AERG", "CAZ"),
    ("B_PSDMN_AERG", "TZP"),
    ("B_STPHY_AURS", "OXA"),
    ("B_STPHY_AURS", "VAN"),
    ("B_STPHY_AURS", "GEN"),
    ("B_ENTRC_FACM", "VAN"),
    ("B_ENTRC_FACM", "AMP"),
    ("B_ACNTB_BMNN", "MEM"),
];
const VALUES: [&str; 16] = [
    "<=0.06", "0.125", "0.25", "0.5", "1", "2", "4", "8", "16", "32", ">=64", "<=0.25", ">32",
    "0.12", "0.03", "64",
];

fn main() {
    let r = Reference::shared().expect("the AMR reference tables in data/amr of the source tree");
    let n: usize = std::env::var("AMR_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let pairs: Vec<_> = PAIRS
        .iter()
        .map(|(m, a)| (r.mo_by_code(m).unwrap(), r.find_antimicrobial(a).unwrap()))
        .collect();
    let rows: Vec<(u8, &str)> = (0..n)
        .map(|_| {
            (
                rng.random_range(0..pairs.len()) as u8,
                VALUES[rng.random_range(0..VALUES.len())],
            )
        })
        .collect();
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create("/tmp/amr-bench-mics.csv").unwrap());
        writeln!(f, "mo,ab,mic").unwrap();
        for (p, v) in rows.iter().take(1_000_000) {
            writeln!(f, "{},{},{}", PAIRS[*p as usize].0, PAIRS[*p as usize].1, v).unwrap();
        }
    }
    for g in ["EUCAST 2025", "CLSI 2025"] {
        let interp = Interpreter::new(r, g.parse().unwrap(), Options::default()).unwrap();
        let t = Instant::now();
        let res: Vec<_> = pairs
            .iter()
            .map(|(m, a)| interp.resolve(*m, *a, Method::Mic, InfectionSite::Unspecified))
            .collect();
        // text → MIC → S/I/R
        let t0 = Instant::now();
        let mut counts = [0u64; 5];
        for (p, v) in &rows {
            let mic = Mic::parse(v).unwrap();
            counts[res[*p as usize].mic(&mic) as usize] += 1;
        }
        let text_s = t0.elapsed().as_secs_f64();
        // parsed values → S/I/R
        let parsed: Vec<(u8, (i16, i16))> = rows
            .iter()
            .map(|(p, v)| (*p, Mic::parse(v).unwrap().range()))
            .collect();
        let t1 = Instant::now();
        let mut counts2 = [0u64; 5];
        for (p, range) in &parsed {
            counts2[res[*p as usize].mic_range(*range) as usize] += 1;
        }
        let parsed_s = t1.elapsed().as_secs_f64();
        assert_eq!(counts, counts2);
        let names = [Sir::S, Sir::I, Sir::R, Sir::Sdd, Sir::Ni];
        println!(
            "{g}: {n} MICs; resolve {:.1} µs; from text {:.3} s = {:.1} M/s; parsed {:.3} s = {:.1} M/s; {}",
            (t0 - t).as_secs_f64() * 1e6,
            text_s,
            n as f64 / text_s / 1e6,
            parsed_s,
            n as f64 / parsed_s / 1e6,
            names
                .iter()
                .zip(counts)
                .map(|(s, c)| format!("{s} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // a 1,000,000-isolate site: 200,000 patients, 6 organisms, 4-7 drugs each, 3 years
    let orgs = [
        (
            "B_ESCHR_COLI",
            &["AMP", "TZP", "CTX", "CAZ", "MEM", "CIP", "GEN"][..],
        ),
        (
            "B_KLBSL_PNMN",
            &["TZP", "CTX", "CAZ", "MEM", "CIP", "GEN"][..],
        ),
        ("B_STPHY_AURS", &["OXA", "VAN", "CIP", "GEN"][..]),
        ("B_PSDMN_AERG", &["TZP", "CAZ", "MEM", "CIP"][..]),
        ("B_ENTRC_FACM", &["AMP", "VAN"][..]),
        ("B_ACNTB_BMNN", &["MEM", "CIP", "GEN"][..]),
    ];
    let orgs: Vec<_> = orgs
        .iter()
        .map(|(m, abs)| {
            (
                r.mo_by_code(m).unwrap(),
                abs.iter()
                    .map(|a| r.find_antimicrobial(a).unwrap())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let start = chrono::NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
    let isolates: Vec<Isolate> = (0..1_000_000)
        .map(|i| {
            let (mo, abs) = &orgs[rng.random_range(0..orgs.len())];
            Isolate {
                id: format!("o{i}"),
                patient: format!("p{}", rng.random_range(0..200_000)),
                date: start + chrono::Duration::days(rng.random_range(0..1095)),
                organism: *mo,
                specimen_type: Some(
                    if rng.random_bool(0.4) {
                        "blood"
                    } else {
                        "urine"
                    }
                    .into(),
                ),
                tests: abs
                    .iter()
                    .map(|a| Test {
                        ab: *a,
                        value: Some(Measurement::Mic(
                            Mic::parse(VALUES[rng.random_range(0..VALUES.len())]).unwrap(),
                        )),
                        lab_sir: None,
                        lab_guideline: None,
                    })
                    .collect(),
            }
        })
        .collect();
    let tests: usize = isolates.iter().map(|i| i.tests.len()).sum();
    for by_year in [false, true] {
        let spec = AntibiogramSpec {
            guideline: "EUCAST 2025".parse().unwrap(),
            organisms: vec![],
            antimicrobials: vec![],
            period: Default::default(),
            specimen_types: vec![],
            first_isolate: Default::default(),
            by_year,
            infection_site: InfectionSite::Unspecified,
            max_isolates_per_patient: kakehashi_amr::per_patient::DEFAULT_MAX_ISOLATES_PER_PATIENT,
        };
        let interp = Interpreter::new(r, spec.guideline, Options::default()).unwrap();
        let t = Instant::now();
        let c = antibiogram(&isolates, &spec, &interp).unwrap();
        let firsts: u64 = c.organisms.iter().map(|o| o.isolates).sum();
        println!(
            "antibiogram of 1,000,000 isolates ({tests} tests; by_year {by_year}): {:.2} s, {} first isolates, {} cells, with MDRO classes",
            t.elapsed().as_secs_f64(),
            firsts,
            c.cells.len()
        );
    }
}
