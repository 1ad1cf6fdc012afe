//! The cases a clinical microbiologist checks first, and each interpretation rule.

use kakehashi_amr::antibiogram::{agreement, antibiogram, max_rows_per_isolate};
use kakehashi_amr::breakpoints::{Body, Method, Resolution};
use kakehashi_amr::mdro::{Magiorakos, Mrgn};
use kakehashi_amr::value::Mic;
use kakehashi_amr::whonet::{interpret_long, read_whonet};
use kakehashi_amr::{
    AntibiogramSpec, FirstIsolateRule, InfectionSite, Interpreter, Isolate, Measurement, Options,
    Reference, Sir, Test, Zone,
};

fn r() -> &'static Reference {
    Reference::shared().expect("the AMR reference tables in data/amr of the source tree")
}
fn interp(g: &str) -> Interpreter<'static> {
    Interpreter::new(r(), g.parse().unwrap(), Options::default()).unwrap()
}
fn read(g: &str, org: &str, ab: &str, mic: &str) -> (Sir, String) {
    let i = interp(g);
    let x = i.interpret(
        r().find_organism(org).unwrap(),
        r().find_antimicrobial(ab).unwrap(),
        &Measurement::Mic(Mic::parse(mic).unwrap()),
        InfectionSite::Unspecified,
    );
    (x.sir, x.basis)
}

#[test]
fn mrsa_by_oxacillin_and_cefoxitin() {
    for g in ["EUCAST 2025", "CLSI 2025"] {
        assert_eq!(
            read(g, "Staphylococcus aureus", "Oxacillin", "4").0,
            Sir::R,
            "{g} oxacillin 4 mg/L"
        );
        assert_eq!(
            read(g, "Staphylococcus aureus", "Oxacillin", "0.5").0,
            Sir::S,
            "{g} oxacillin 0.5 mg/L"
        );
        assert_eq!(
            read(g, "S. aureus", "FOX", "16").0,
            Sir::R,
            "{g} cefoxitin 16 mg/L"
        );
        assert_eq!(read(g, "SAU", "FOX", "2").0, Sir::S, "{g} cefoxitin 2 mg/L");
    }
    // EUCAST reads cefoxitin for S. aureus only as a screen: the row says so
    assert!(
        read("EUCAST 2025", "Staphylococcus aureus", "FOX", "8")
            .1
            .contains("Screen")
    );
    let g = "EUCAST 2025".parse().unwrap();
    let sau = r().find_organism("Staphylococcus aureus").unwrap();
    let ab = |c| r().find_antimicrobial(c).unwrap();
    let f = r()
        .mdro()
        .classify(r(), g, sau, &[(ab("OXA"), Sir::R), (ab("VAN"), Sir::S)]);
    assert!(f.mrsa);
    assert_eq!(
        f.magiorakos,
        Some(Magiorakos::Mdr),
        "MRSA is always MDR (Magiorakos 2012)"
    );
    let f = r()
        .mdro()
        .classify(r(), g, sau, &[(ab("OXA"), Sir::S), (ab("VAN"), Sir::S)]);
    assert!(!f.mrsa);
    assert_eq!(f.magiorakos, Some(Magiorakos::NotMdr));
}

#[test]
fn esbl_type_e_coli() {
    for g in ["EUCAST 2025", "CLSI 2025"] {
        assert_eq!(
            read(g, "Escherichia coli", "Cefotaxime", "32").0,
            Sir::R,
            "{g}"
        );
        assert_eq!(
            read(g, "Escherichia coli", "Ceftazidime", "32").0,
            Sir::R,
            "{g}"
        );
        assert_eq!(
            read(g, "Escherichia coli", "Meropenem", "0.06").0,
            Sir::S,
            "{g}"
        );
    }
    // ceftazidime 8: EUCAST R (> 4), CLSI I (S <= 4, R >= 16)
    assert_eq!(
        read("EUCAST 2025", "Escherichia coli", "CAZ", "8").0,
        Sir::R
    );
    assert_eq!(read("CLSI 2025", "Escherichia coli", "CAZ", "8").0, Sir::I);
    let eco = r().find_organism("E. coli").unwrap();
    let ab = |c| r().find_antimicrobial(c).unwrap();
    let f = r().mdro().classify(
        r(),
        "EUCAST 2025".parse().unwrap(),
        eco,
        &[
            (ab("CTX"), Sir::R),
            (ab("CAZ"), Sir::R),
            (ab("MEM"), Sir::S),
            (ab("CIP"), Sir::R),
            (ab("TZP"), Sir::R),
        ],
    );
    assert!(f.g3cr && !f.carbapenem_r);
    assert_eq!(
        f.krinko,
        Some(Mrgn::Mrgn3),
        "piperacillin, cephalosporin and ciprofloxacin R, carbapenem S"
    );
}

#[test]
fn carbapenem_resistant_k_pneumoniae() {
    for g in ["EUCAST 2025", "CLSI 2025", "EUCAST 2024", "CLSI 2024"] {
        assert_eq!(
            read(g, "Klebsiella pneumoniae", "Meropenem", "16").0,
            Sir::R,
            "{g}"
        );
        assert_eq!(
            read(g, "Klebsiella pneumoniae", "MEM", "0.125").0,
            Sir::S,
            "{g}"
        );
    }
    // meropenem 4: EUCAST I (S <= 2, R > 8), CLSI R (R >= 4)
    assert_eq!(
        read("EUCAST 2025", "Klebsiella pneumoniae", "MEM", "4").0,
        Sir::I
    );
    assert_eq!(
        read("CLSI 2025", "Klebsiella pneumoniae", "MEM", "4").0,
        Sir::R
    );
    // the row is Enterobacterales (order), found by rank fall-back from the species
    assert!(
        read("EUCAST 2025", "Klebsiella pneumoniae", "MEM", "4")
            .1
            .contains("B_[ORD]_ENTRBCTR")
    );
    let kpn = r().find_organism("Klebsiella pneumoniae").unwrap();
    let ab = |c| r().find_antimicrobial(c).unwrap();
    let all_r = [
        (ab("TZP"), Sir::R),
        (ab("CTX"), Sir::R),
        (ab("CAZ"), Sir::R),
        (ab("MEM"), Sir::R),
        (ab("CIP"), Sir::R),
        (ab("GEN"), Sir::S),
    ];
    let f = r()
        .mdro()
        .classify(r(), "EUCAST 2025".parse().unwrap(), kpn, &all_r);
    assert!(f.carbapenem_r && f.g3cr);
    assert_eq!(f.krinko, Some(Mrgn::Mrgn4));
    assert_eq!(f.magiorakos, Some(Magiorakos::Mdr));
}

#[test]
fn intrinsic_resistance() {
    // K. pneumoniae is intrinsically resistant to ampicillin: R whatever the MIC
    let (s, basis) = read("EUCAST 2025", "Klebsiella pneumoniae", "Ampicillin", "2");
    assert_eq!(s, Sir::R);
    assert!(basis.contains("intrinsic"), "{basis}");
    assert_eq!(
        read("CLSI 2025", "Klebsiella pneumoniae", "AMP", "2").0,
        Sir::R
    );
    // E. coli is not: 2 mg/L is S
    assert_eq!(
        read("EUCAST 2025", "Escherichia coli", "AMP", "2").0,
        Sir::S
    );
    // switched off, the Enterobacterales row reads it
    let i = Interpreter::new(
        r(),
        "EUCAST 2025".parse().unwrap(),
        Options {
            intrinsic: false,
            ..Options::default()
        },
    )
    .unwrap();
    let x = i.interpret(
        r().find_organism("K. pneumoniae").unwrap(),
        r().find_antimicrobial("AMP").unwrap(),
        &Measurement::Mic(Mic::parse("2").unwrap()),
        InfectionSite::Unspecified,
    );
    assert_eq!(x.sir, Sir::S);
    // P. aeruginosa and ertapenem; enterococci and cephalosporins
    assert_eq!(
        read("EUCAST 2025", "Pseudomonas aeruginosa", "Ertapenem", "0.06").0,
        Sir::R
    );
    assert_eq!(
        read("EUCAST 2025", "Enterococcus faecium", "Ceftazidime", "0.06").0,
        Sir::R
    );
}

#[test]
fn no_breakpoint_is_ni_never_a_guess() {
    let i = interp("EUCAST 2025");
    let eco = r().find_organism("Escherichia coli").unwrap();
    let ab = r()
        .antimicrobials
        .iter()
        .enumerate()
        .map(|(n, _)| kakehashi_amr::AbId(n as u16))
        .find(|a| {
            !r().is_intrinsic(eco, *a)
                && i.resolve(eco, *a, Method::Mic, InfectionSite::Unspecified)
                    == Resolution::NoBreakpoint
        })
        .unwrap();
    let x = i.interpret(
        eco,
        ab,
        &Measurement::Mic(Mic::parse("1").unwrap()),
        InfectionSite::Unspecified,
    );
    assert_eq!(x.sir, Sir::Ni);
    assert!(
        x.basis.starts_with("no EUCAST 2025 MIC breakpoint"),
        "{}",
        x.basis
    );
}

#[test]
fn meningitis_selects_its_own_rows() {
    let i = interp("EUCAST 2025");
    let spn = r().find_organism("Streptococcus pneumoniae").unwrap();
    let pen = r().find_antimicrobial("Benzylpenicillin").unwrap();
    let m = Measurement::Mic(Mic::parse("0.125").unwrap());
    assert_eq!(
        i.interpret(spn, pen, &m, InfectionSite::Meningitis).sir,
        Sir::R,
        "meningitis: S <= 0.06, R > 0.06"
    );
    assert_eq!(
        i.interpret(spn, pen, &m, InfectionSite::Unspecified).sir,
        Sir::I,
        "other sites: R > 1"
    );
    assert!(
        i.interpret(spn, pen, &m, InfectionSite::Meningitis)
            .basis
            .contains("Meningitis")
    );
}

#[test]
fn uncomplicated_uti_rows() {
    // EUCAST 2025 E. coli cefuroxime: oral only for uncomplicated UTI
    let i = interp("EUCAST 2025");
    let eco = r().find_organism("Escherichia coli").unwrap();
    let nit = r().find_antimicrobial("Nitrofurantoin").unwrap();
    let x = i.interpret(
        eco,
        nit,
        &Measurement::Mic(Mic::parse("32").unwrap()),
        InfectionSite::UncomplicatedUti,
    );
    assert_eq!(x.sir, Sir::S, "{}", x.basis);
    assert!(
        x.basis.contains("urinary") || x.basis.contains("UTI"),
        "{}",
        x.basis
    );
}

#[test]
fn sdd_is_its_own_category() {
    // CLSI 2025 Enterobacterales cefepime: S <= 2, SDD 4-8, R >= 16
    assert_eq!(
        read("CLSI 2025", "Escherichia coli", "Cefepime", "4").0,
        Sir::Sdd
    );
    assert_eq!(
        read("CLSI 2025", "Escherichia coli", "Cefepime", "2").0,
        Sir::S
    );
    assert_eq!(
        read("CLSI 2025", "Escherichia coli", "Cefepime", "16").0,
        Sir::R
    );
}

#[test]
fn censored_mics() {
    // <=0.25 is certainly S against S <= 2; <=4 spans the breakpoint: NI; >8 is R
    assert_eq!(
        read("EUCAST 2025", "K. pneumoniae", "MEM", "<=0.25").0,
        Sir::S
    );
    let (s, basis) = read("EUCAST 2025", "K. pneumoniae", "MEM", "<=4");
    assert_eq!(s, Sir::Ni);
    assert!(basis.contains("spans"), "{basis}");
    assert_eq!(read("EUCAST 2025", "K. pneumoniae", "MEM", ">8").0, Sir::R);
    assert_eq!(
        read("EUCAST 2025", "K. pneumoniae", "MEM", ">=8").0,
        Sir::Ni,
        "8 is I, 16 is R"
    );
    assert_eq!(read("CLSI 2025", "K. pneumoniae", "MEM", ">=4").0, Sir::R);
    // a gradient-strip value between steps rounds up: 1.5 -> 2 (S <= 2 under EUCAST)
    assert_eq!(read("EUCAST 2025", "K. pneumoniae", "MEM", "1.5").0, Sir::S);
    assert_eq!(read("EUCAST 2025", "K. pneumoniae", "MEM", "2.5").0, Sir::I);
}

#[test]
fn zones_only_under_the_guideline_of_their_disk() {
    let eco = r().find_organism("Escherichia coli").unwrap();
    let cip = r().find_antimicrobial("CIP").unwrap();
    let eu = interp("EUCAST 2025");
    let z = |mm, b| Measurement::Zone(Zone { mm }, b);
    assert_eq!(
        eu.interpret(
            eco,
            cip,
            &z(30.0, Some(Body::Eucast)),
            InfectionSite::Unspecified
        )
        .sir,
        Sir::S
    );
    assert_eq!(
        eu.interpret(
            eco,
            cip,
            &z(15.0, Some(Body::Eucast)),
            InfectionSite::Unspecified
        )
        .sir,
        Sir::R
    );
    let x = eu.interpret(
        eco,
        cip,
        &z(30.0, Some(Body::Clsi)),
        InfectionSite::Unspecified,
    );
    assert_eq!(x.sir, Sir::Ni);
    assert!(x.basis.contains("CLSI disk"), "{}", x.basis);
    let x = eu.interpret(eco, cip, &z(30.0, None), InfectionSite::Unspecified);
    assert_eq!(x.sir, Sir::Ni);
    assert!(x.basis.contains("guideline whose disk"), "{}", x.basis);
    let cl = interp("CLSI 2025");
    assert_eq!(
        cl.interpret(
            eco,
            cip,
            &z(30.0, Some(Body::Clsi)),
            InfectionSite::Unspecified
        )
        .sir,
        Sir::S
    );
}

#[test]
fn rank_fallback_species_group_genus() {
    let i = interp("EUCAST 2025");
    // S. epidermidis reads with the coagulase-negative staphylococci rows where EUCAST has them
    let sep = r().find_organism("Staphylococcus epidermidis").unwrap();
    let lineage: Vec<String> = r()
        .lineage(sep)
        .iter()
        .map(|(m, _)| r().organism(*m).code.clone())
        .collect();
    assert!(
        lineage.contains(&"B_STPHY_CONS".to_string())
            && lineage.contains(&"B_STPHY".to_string())
            && lineage.contains(&"B_GRAMP".to_string()),
        "{lineage:?}"
    );
    // Enterobacter cloacae: no species row for meropenem, the order row applies
    let ecl = r().find_organism("Enterobacter cloacae").unwrap();
    let mem = r().find_antimicrobial("MEM").unwrap();
    let row = i
        .resolve(ecl, mem, Method::Mic, InfectionSite::Unspecified)
        .row()
        .unwrap();
    assert_eq!(r().breakpoints[row as usize].mo_code, "B_[ORD]_ENTRBCTR");
    // subspecies first: K. pneumoniae subsp. ozaenae is a subspecies, then the species
    let oz = r().mo_by_code("B_KLBSL_PNMN_OZAN").unwrap();
    let l = r().lineage(oz);
    assert_eq!(l[0].1, 1.0);
    assert_eq!(r().organism(l[1].0).code, "B_KLBSL_PNMN");
}

#[test]
fn guideline_names() {
    assert!("EUCAST 2025".parse::<kakehashi_amr::Guideline>().is_ok());
    assert_eq!(
        "clsi-2024"
            .parse::<kakehashi_amr::Guideline>()
            .unwrap()
            .to_string(),
        "CLSI 2024"
    );
    assert!(
        "WHO 2025"
            .parse::<kakehashi_amr::Guideline>()
            .unwrap_err()
            .to_string()
            .contains("WHO 2025")
    );
    assert!("EUCAST".parse::<kakehashi_amr::Guideline>().is_err());
    let e = Interpreter::new(r(), "EUCAST 1999".parse().unwrap(), Options::default())
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("EUCAST 2025"),
        "lists what exists: {e}"
    );
}

#[test]
fn mdro_definitions_resolve() {
    let _ = r().mdro();
    let pae = r().find_organism("Pseudomonas aeruginosa").unwrap();
    let ab = |c| r().find_antimicrobial(c).unwrap();
    let d = r().mdro();
    let g = "EUCAST 2025".parse().unwrap();
    // P. aeruginosa resistant to 3 of the 4 KRINKO classes (carbapenem S) is 3MRGN
    let f = d.classify(
        r(),
        g,
        pae,
        &[
            (ab("TZP"), Sir::R),
            (ab("CAZ"), Sir::R),
            (ab("MEM"), Sir::S),
            (ab("CIP"), Sir::R),
        ],
    );
    assert_eq!(f.krinko, Some(Mrgn::Mrgn3));
    // EUCAST I (wild type for P. aeruginosa) is not resistance
    let f = d.classify(
        r(),
        g,
        pae,
        &[
            (ab("TZP"), Sir::I),
            (ab("CAZ"), Sir::I),
            (ab("MEM"), Sir::S),
            (ab("CIP"), Sir::I),
        ],
    );
    assert_eq!(f.krinko, Some(Mrgn::None));
    assert_eq!(f.magiorakos, Some(Magiorakos::NotMdr));
    // under CLSI, I counts as non-susceptible for Magiorakos
    let f = d.classify(
        r(),
        "CLSI 2025".parse().unwrap(),
        pae,
        &[
            (ab("TZP"), Sir::I),
            (ab("CAZ"), Sir::I),
            (ab("MEM"), Sir::S),
            (ab("CIP"), Sir::I),
        ],
    );
    assert_eq!(f.magiorakos, Some(Magiorakos::Mdr));
    // VRE
    let efm = r().find_organism("Enterococcus faecium").unwrap();
    assert!(d.classify(r(), g, efm, &[(ab("VAN"), Sir::R)]).vre);
    // XDR: non-susceptible in all but <= 2 of the 8 P. aeruginosa categories
    let xdr = ["GEN", "MEM", "CAZ", "CIP", "TZP", "ATM"].map(|c| (ab(c), Sir::R));
    assert_eq!(
        d.classify(r(), g, pae, &xdr).magiorakos,
        Some(Magiorakos::Xdr)
    );
}

fn iso(id: &str, patient: &str, org: &str, date: &str, tests: &[(&str, &str)]) -> Isolate {
    Isolate {
        id: id.into(),
        patient: patient.into(),
        date: date.parse().unwrap(),
        organism: r().find_organism(org).unwrap(),
        specimen_type: Some("blood".into()),
        tests: tests
            .iter()
            .map(|(a, v)| Test {
                ab: r().find_antimicrobial(a).unwrap(),
                value: Some(Measurement::Mic(Mic::parse(v).unwrap())),
                lab_sir: None,
                lab_guideline: None,
            })
            .collect(),
    }
}

#[test]
fn antibiogram_counts_first_isolates_only() {
    let isolates = vec![
        iso(
            "1",
            "p1",
            "Klebsiella pneumoniae",
            "2024-01-05",
            &[("MEM", "16"), ("CIP", "0.06")],
        ),
        iso(
            "2",
            "p1",
            "Klebsiella pneumoniae",
            "2024-02-05",
            &[("MEM", "0.06")],
        ), // repeat: not counted under M39
        iso(
            "3",
            "p2",
            "Klebsiella pneumoniae",
            "2024-03-01",
            &[("MEM", "4"), ("CIP", "<=4")],
        ),
        iso(
            "4",
            "p3",
            "Escherichia coli",
            "2024-03-01",
            &[("MEM", "0.06")],
        ),
        iso(
            "5",
            "p4",
            "Klebsiella pneumoniae",
            "2025-03-01",
            &[("MEM", "0.06")],
        ),
    ];
    let spec: AntibiogramSpec = serde_json::from_str(r#"{"guideline":"EUCAST 2025","organisms":["K. pneumoniae"],"antimicrobials":["Meropenem","CIP"],"by_year":true}"#).unwrap();
    let i = interp("EUCAST 2025");
    let c = antibiogram(&isolates, &spec, &i).unwrap();
    let cell = |y, a: &str| {
        c.cells
            .iter()
            .find(|x| x.year == Some(y) && x.antimicrobial == a)
            .cloned()
            .unwrap()
    };
    let m = cell(2024, "MEM");
    assert_eq!((m.tested, m.s, m.i, m.r, m.ni), (2, 0, 1, 1, 0));
    let cip = cell(2024, "CIP");
    assert_eq!(
        (cip.tested, cip.s, cip.ni),
        (2, 1, 1),
        "<=4 spans the ciprofloxacin breakpoints"
    );
    assert_eq!(cell(2025, "MEM").s, 1);
    assert!(c.cells.iter().all(|x| x.organism == "B_KLBSL_PNMN"));
    let o = c.organisms.iter().find(|o| o.year == Some(2024)).unwrap();
    assert_eq!((o.isolates, o.carbapenem_r), (2, 1));
    // all isolates: the repeat counts
    let all = AntibiogramSpec {
        first_isolate: FirstIsolateRule::All,
        ..spec.clone()
    };
    let c = antibiogram(&isolates, &all, &i).unwrap();
    assert_eq!(
        c.cells
            .iter()
            .find(|x| x.year == Some(2024) && x.antimicrobial == "MEM")
            .unwrap()
            .tested,
        3
    );
    // a specimen filter that matches nothing
    let urine = AntibiogramSpec {
        specimen_types: vec!["urine".into()],
        ..spec.clone()
    };
    assert!(antibiogram(&isolates, &urine, &i).unwrap().cells.is_empty());
    // an unknown name is an error naming the field
    let bad = AntibiogramSpec {
        organisms: vec!["Nonexistia bogus".into()],
        ..spec
    };
    assert!(
        antibiogram(&isolates, &bad, &i)
            .unwrap_err()
            .to_string()
            .contains("organisms[0]")
    );
}

#[test]
fn an_isolate_counts_under_every_listed_organism_so_list_order_means_nothing() {
    let isolates = vec![
        iso(
            "1",
            "p1",
            "Escherichia coli",
            "2024-01-05",
            &[("MEM", "0.06")],
        ),
        iso(
            "2",
            "p2",
            "Klebsiella pneumoniae",
            "2024-01-06",
            &[("MEM", "16")],
        ),
        iso(
            "3",
            "p3",
            "Staphylococcus aureus",
            "2024-01-07",
            &[("MEM", "0.06")],
        ),
    ];
    let i = interp("EUCAST 2025");
    let spec = |orgs: &[&str]| AntibiogramSpec {
        organisms: orgs.iter().map(|o| o.to_string()).collect(),
        ..serde_json::from_str(r#"{"guideline":"EUCAST 2025","antimicrobials":["MEM"]}"#).unwrap()
    };
    let a = spec(&["Enterobacterales", "Escherichia coli"]);
    let b = spec(&["Escherichia coli", "Enterobacterales"]);
    let (ca, cb) = (
        antibiogram(&isolates, &a, &i).unwrap(),
        antibiogram(&isolates, &b, &i).unwrap(),
    );
    assert_eq!(ca, cb);
    assert_eq!(a.canonical(r()), b.canonical(r()));
    let isolates_of = |org: &str| {
        ca.organisms
            .iter()
            .find(|o| o.organism == org)
            .map(|o| o.isolates)
    };
    // E. coli under its species and under its order; K. pneumoniae under the order only
    assert_eq!(isolates_of("B_ESCHR_COLI"), Some(1));
    let order = &r()
        .organism(r().find_organism("Enterobacterales").unwrap())
        .code;
    assert_eq!(isolates_of(order), Some(2));
    assert_eq!(ca.organisms.len(), 2, "S. aureus is in neither: {ca:?}");
    // one isolate changes two organism rows: the bound the noise is scaled by
    let ids =
        |orgs: &[&str]| -> Vec<_> { orgs.iter().map(|o| r().find_organism(o).unwrap()).collect() };
    assert_eq!(
        max_rows_per_isolate(r(), &ids(&["Enterobacterales", "Escherichia coli"])),
        2
    );
    assert_eq!(
        max_rows_per_isolate(r(), &ids(&["Escherichia coli", "Staphylococcus aureus"])),
        1
    );
    assert_eq!(
        max_rows_per_isolate(
            r(),
            &ids(&["Enterobacterales", "Escherichia", "Escherichia coli"])
        ),
        3
    );
    assert_eq!(max_rows_per_isolate(r(), &[]), 1);
}

#[test]
fn the_reference_tables_have_a_version_per_file() {
    let v = r().versions();
    let names: Vec<&str> = v.iter().map(|(n, _)| n.as_str()).collect();
    for f in ["organisms.tsv", "breakpoints-eucast.tsv", "mdro.toml"] {
        assert!(names.contains(&f), "{names:?}");
    }
    assert!(
        v.iter()
            .all(|(_, d)| d.starts_with("sha256:") && d.len() == 23),
        "{v:?}"
    );
}

#[test]
fn canonical_spec() {
    let a: AntibiogramSpec = serde_json::from_str(r#"{"guideline":"EUCAST 2025","organisms":["Escherichia coli","K. pneumoniae"],"antimicrobials":["Meropenem","CIP"],"specimen_types":["blood"]}"#).unwrap();
    let b: AntibiogramSpec = serde_json::from_str(r#"{"guideline":"eucast-2025","organisms":["B_KLBSL_PNMN","ECO","E. coli"],"antimicrobials":["ciprofloxacin","J01DH02"],"specimen_types":["119297000"],"first_isolate":{"method":"m39"},"by_year":false}"#).unwrap();
    assert_eq!(a.canonical(r()), b.canonical(r()));
    let c = AntibiogramSpec {
        by_year: true,
        ..a.clone()
    };
    assert_ne!(a.canonical(r()), c.canonical(r()));
    let d = AntibiogramSpec {
        guideline: "CLSI 2025".parse().unwrap(),
        ..a.clone()
    };
    assert_ne!(a.canonical(r()), d.canonical(r()));
    assert!(
        serde_json::from_str::<AntibiogramSpec>(r#"{"guideline":"EUCAST 2025","bogus":1}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<AntibiogramSpec>(r#"{"guideline":"XYZ 2025"}"#).is_err());
}

#[test]
fn lab_agreement_counts() {
    let i = interp("CLSI 2024");
    let g = Some("CLSI 2024".parse().unwrap());
    let mut a = iso(
        "1",
        "p",
        "Escherichia coli",
        "2024-01-01",
        &[("MEM", "4"), ("CAZ", "8")],
    );
    a.tests[0].lab_sir = Some(Sir::R);
    a.tests[0].lab_guideline = g;
    a.tests[1].lab_sir = Some(Sir::S); // wrong on purpose: CLSI reads 8 as I
    a.tests[1].lab_guideline = g;
    let ag = agreement(&[a], &i, InfectionSite::Unspecified);
    assert_eq!((ag.compared, ag.agree), (2, 1));
    assert_eq!(
        ag.disagreements.get("B_ESCHR_COLI CAZ: lab S / read I"),
        Some(&1)
    );
}

#[test]
fn long_csv_interpretation_and_errors() {
    let i = interp("EUCAST 2025");
    let csv = "id,organism,antimicrobial,mic,disk,disk_guideline\n1,Klebsiella pneumoniae,Meropenem,16,,\n2,Escherichia coli,CIP,,30,EUCAST\n3,E. coli,CIP,,30,CLSI\n";
    let (h, rows) = interpret_long(csv.as_bytes(), "t.csv", &i).unwrap();
    assert_eq!(h[0], "id");
    assert_eq!(
        rows.iter().map(|r| r.result.sir).collect::<Vec<_>>(),
        vec![Sir::R, Sir::S, Sir::Ni]
    );
    assert!(rows[0].result.basis.starts_with("EUCAST 2025 MIC MEM"));
    let bad = "organism,antimicrobial,mic\nKlebsiella pneumoniae,Meropenem,lots\n";
    let e = interpret_long(bad.as_bytes(), "t.csv", &i)
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv line 2, column mic"), "{e}");
    let bad = "organism,antimicrobial,mic\nNonexistia,Meropenem,1\n";
    assert!(
        interpret_long(bad.as_bytes(), "t.csv", &i)
            .unwrap_err()
            .to_string()
            .contains("unknown organism")
    );
    assert!(
        interpret_long("organism,mic\n".as_bytes(), "t.csv", &i)
            .unwrap_err()
            .to_string()
            .contains("antimicrobial")
    );
}

#[test]
fn whonet_csv() {
    let csv = "LABORATORY,PATIENT_ID,SEX,AGE,SPEC_NUM,SPEC_TYPE,SPEC_DATE,ORGANISM,AMP_NM,MEM_NM,CIP_ND5,GUIDELINE\nX,p1,f,70,s1,bl,2024-02-01,Klebsiella pneumoniae,>=32,<=0.125,25,CLSI 2024\nX,p2,m,60,s2,ur,2024-02-03,eco,S,,,CLSI 2024\n";
    let v = read_whonet(csv.as_bytes(), "w.csv", r()).unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].specimen_type.as_deref(), Some("blood"));
    assert_eq!(v[0].tests.len(), 3);
    assert!(matches!(
        v[0].tests[2].value,
        Some(Measurement::Zone(_, Some(Body::Clsi)))
    ));
    assert_eq!(v[1].tests[0].lab_sir, Some(Sir::S));
    assert_eq!(r().organism(v[1].organism).code, "B_ESCHR_COLI");
    let bad = "SPEC_DATE,ORGANISM,AMP_NM\n2024-13-01,eco,2\n";
    assert!(
        read_whonet(bad.as_bytes(), "w.csv", r())
            .unwrap_err()
            .to_string()
            .contains("w.csv line 2, column SPEC_DATE")
    );
}
