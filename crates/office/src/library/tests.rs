use super::*;
use proptest::prelude::*;

fn at(h: u32) -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 5, 1, h, 0, 0).unwrap()
}

fn doc() -> Document {
    Document {
        id: "proto-sari".into(),
        title: "SARI protocol".into(),
        kind: DocKind::Protocol,
        lang: Lang::En,
        governs: vec![],
    }
}

fn draft(n: u32, text: &str) -> Version {
    let c = Content::of("file", "protocol.md", text.as_bytes()).unwrap();
    Version::new("proto-sari", n, c, "", "ana", at(8)).unwrap()
}

#[test]
fn a_version_goes_draft_review_approved_and_is_then_immutable() {
    let mut v = draft(1, "v1");
    assert_eq!(v.content.sha256, sha256_hex(b"v1"));
    v.replace_content(Content::of("file", "p.md", b"v1b").unwrap())
        .unwrap();
    v.step(Step::Submit, "ana", at(9)).unwrap();
    let e = v
        .replace_content(Content::of("file", "p.md", b"x").unwrap())
        .unwrap_err();
    assert!(matches!(
        e,
        OfficeError::Immutable {
            state: "in_review",
            ..
        }
    ));
    v.step(Step::Approve, "ken", at(10)).unwrap();
    assert_eq!(v.review.state, ReviewState::Approved);
    assert_eq!(
        v.review.approvals,
        vec![Approval {
            by: "ken".into(),
            at: at(10)
        }]
    );
    let e = v
        .replace_content(Content::of("file", "p.md", b"x").unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "version 1 is approved: an approved or submitted version cannot be edited; make a new version"
    );
    assert_eq!(v.content.sha256, sha256_hex(b"v1b"));
}

#[test]
fn steps_out_of_order_are_refused_by_name() {
    let mut v = draft(1, "v1");
    let e = v.step(Step::Approve, "ken", at(9)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "version 1 of proto-sari is draft: it cannot be approved"
    );
    v.step(Step::Submit, "ana", at(9)).unwrap();
    assert!(matches!(
        v.step(Step::Approve, "ana", at(9)),
        Err(OfficeError::OwnApproval { .. })
    ));
    v.step(Step::Return, "ken", at(9)).unwrap();
    assert_eq!(v.review.state, ReviewState::Draft);
}

#[test]
fn approving_a_new_version_supersedes_the_old() {
    let mut vs = vec![draft(1, "a"), draft(2, "b")];
    for v in &mut vs {
        v.step(Step::Submit, "ana", at(9)).unwrap();
    }
    assert!(approve(&mut vs, 1, "ken", at(10)).unwrap().is_empty());
    assert_eq!(approve(&mut vs, 2, "ken", at(11)).unwrap(), vec![1]);
    assert_eq!(vs[0].review.state, ReviewState::Superseded);
    assert_eq!(vs[1].review.state, ReviewState::Approved);
}

#[test]
fn a_translation_is_not_approved_before_its_source() {
    let mut v = draft(1, "text");
    let c = Content::of("file", "protokoll.md", b"Text").unwrap();
    let mut t = Translation::new(&doc(), &v, Lang::De, c, "uwe", at(9)).unwrap();
    t.step(&v, Step::Submit, "uwe", at(9)).unwrap();
    let e = t.step(&v, Step::Approve, "ken", at(10)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the de translation of version 1 cannot be approved before its source version is approved"
    );
    v.step(Step::Submit, "ana", at(9)).unwrap();
    v.step(Step::Approve, "ken", at(10)).unwrap();
    t.step(&v, Step::Approve, "ken", at(11)).unwrap();
    assert_eq!(t.review.state, ReviewState::Approved);
    // its own review state: the source's approval did not approve it
    let c = Content::of("file", "p.md", b"x").unwrap();
    let t2 = Translation::new(&doc(), &v, Lang::Ja, c, "yui", at(9)).unwrap();
    assert_eq!(t2.review.state, ReviewState::Draft);
}

#[test]
fn a_translation_into_the_source_language_or_of_unknown_type_is_refused() {
    let v = draft(1, "text");
    let c = Content::of("file", "p.md", b"x").unwrap();
    let e = Translation::new(&doc(), &v, Lang::En, c, "uwe", at(9)).unwrap_err();
    assert!(e.to_string().starts_with("lang:"), "{e}");
    let e = Content::of("versions[0].file", "virus.exe", b"MZ").unwrap_err();
    assert_eq!(
        e.to_string(),
        "versions[0].file: \"virus.exe\" is not a type the library keeps (use .txt, .md, .csv, .toml, .pdf, .docx, .odt, .xlsx)"
    );
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![Just(Step::Submit), Just(Step::Return), Just(Step::Approve)]
}

proptest! {
    /// Whatever steps are tried, content changes only in draft, an approved version always
    /// has an approval by someone other than its author, and a refused step changes nothing.
    #[test]
    fn the_state_machine_keeps_its_rules(steps in proptest::collection::vec((step(), prop::bool::ANY, prop::bool::ANY), 0..20)) {
        let mut v = draft(1, "start");
        for (i, (s, by_author, edit)) in steps.into_iter().enumerate() {
            if !edit {
                let before = v.clone();
                let by = if by_author { "ana" } else { "ken" };
                if v.step(s, by, at(9)).is_err() {
                    prop_assert_eq!(&v, &before);
                }
                continue;
            }
            let c = Content::of("file", "p.md", format!("{i}").as_bytes()).unwrap();
            let was_draft = v.review.state == ReviewState::Draft;
            let old = v.content.clone();
            prop_assert_eq!(v.replace_content(c.clone()).is_ok(), was_draft);
            if was_draft { prop_assert_eq!(&v.content, &c); } else { prop_assert_eq!(&v.content, &old); }
        }
        if v.review.state == ReviewState::Approved {
                prop_assert!(v.review.approvals.iter().any(|a| a.by != v.review.author));
            }
        }
}

fn icosari() -> Governs {
    Governs::CaseDefinition {
        name: "sari-icosari".into(),
    }
}

#[test]
fn a_subject_is_governed_by_one_document_and_named_once() {
    let mut a = doc();
    a.governs = vec![icosari(), icosari()];
    let e = governs::check(&a, &[]).unwrap_err();
    assert!(e.to_string().contains("governs[1]"), "{e}");
    assert!(e.to_string().contains("named twice"), "{e}");

    a.governs = vec![icosari()];
    let mut b = doc();
    b.id = "def-sari".into();
    b.governs = vec![
        Governs::Breakpoints {
            guideline: "EUCAST 2025".into(),
        },
        icosari(),
    ];
    let e = governs::check(&b, std::slice::from_ref(&a)).unwrap_err();
    assert!(e.to_string().contains("governs[1]"), "{e}");
    assert!(e.to_string().contains("proto-sari"), "{e}");
    // the document itself, saved again, does not clash with its stored self
    governs::check(&a, std::slice::from_ref(&a)).unwrap();

    b.governs[0] = Governs::Breakpoints {
        guideline: " ".into(),
    };
    let e = governs::check(&b, &[]).unwrap_err();
    assert!(
        matches!(e, OfficeError::Missing { ref field } if field == "governs[0]"),
        "{e}"
    );
}

#[test]
fn the_version_in_force_is_the_approved_one_and_a_newer_draft_is_pending() {
    let mut d = doc();
    d.governs = vec![icosari()];
    let mut vs = vec![draft(1, "one"), draft(2, "two"), draft(3, "three")];
    let lib = vec![(d.clone(), vs.clone())];
    let f = in_force(&icosari(), &lib).unwrap();
    assert_eq!(f.document.id, "proto-sari");
    assert!(f.version.is_none(), "nothing approved yet");
    assert_eq!(f.pending, Some(3));
    assert_eq!(f.matches(b"one"), None);

    for n in [1, 2] {
        vs[n - 1].step(Step::Submit, "ana", at(9)).unwrap();
        approve(&mut vs, n as u32, "ken", at(10)).unwrap();
    }
    let lib = vec![(d, vs)];
    let f = in_force(&icosari(), &lib).unwrap();
    assert_eq!(f.version.map(|v| v.number), Some(2), "1 is superseded by 2");
    assert_eq!(f.pending, Some(3));
    assert_eq!(f.matches(b"two"), Some(true));
    assert_eq!(f.matches(b"one"), Some(false));
    let other = Governs::Breakpoints {
        guideline: "CLSI 2025".into(),
    };
    assert!(in_force(&other, &lib).is_none());
}

#[test]
fn a_document_without_subjects_reads_and_writes_as_before() {
    let old = r#"{"id":"sop","title":"SOP","kind":"sop","lang":"de"}"#;
    let d: Document = serde_json::from_str(old).unwrap();
    assert!(d.governs.is_empty());
    assert_eq!(serde_json::to_string(&d).unwrap(), old);
    let e = serde_json::from_str::<Governs>(r#"{"kind":"case_definition","nam":"x"}"#).unwrap_err();
    assert!(e.to_string().contains("nam"), "{e}");
}
