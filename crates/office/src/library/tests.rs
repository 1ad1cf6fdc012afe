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
        "versions[0].file: \"virus.exe\" is not a type the library keeps (use .txt, .md, .pdf, .docx, .odt, .xlsx, .csv)"
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
