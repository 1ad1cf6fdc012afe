//! Every transition of both machines, allowed and refused, by every role; a refused change
//! leaves the request as it was.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;
use states::{
    CollectionEvent as CE, CollectionState as CS, RequestEvent as RE, RequestState as RS,
};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, minute % 60, 0)
        .unwrap()
}

fn office() -> Actor {
    Actor::NetworkOffice {
        user: "office".into(),
    }
}
fn alice() -> Actor {
    Actor::Researcher {
        user: "alice".into(),
    }
}
fn bob() -> Actor {
    Actor::Researcher { user: "bob".into() }
}
fn steward(site: &str) -> Actor {
    Actor::SiteSteward {
        site: site.into(),
        user: format!("{site}-steward"),
    }
}

fn draft() -> AccessRequest {
    AccessRequest::new(
        "r1",
        "alice",
        "SFTS sera",
        "Neutralisation assays on convalescent sera.",
        RequestQuery::default(),
        &[
            ("de-sera".into(), "de-uni".into()),
            ("jp-sfts".into(), "jp-jihs".into()),
        ],
        at(0),
    )
    .unwrap()
}

fn with_papers() -> AccessRequest {
    let mut r = draft();
    for (k, n) in [
        (AttachmentKind::EthicsApproval, "ethics.pdf"),
        (AttachmentKind::Protocol, "protocol.pdf"),
    ] {
        r.attach(
            &alice(),
            Attachment::of_bytes(k, n, "application/pdf", n.as_bytes()).unwrap(),
        )
        .unwrap();
    }
    r
}

/// A request in progress.
fn in_progress() -> AccessRequest {
    let mut r = with_papers();
    r.fire(&alice(), RE::Submit, at(1)).unwrap();
    r.fire(&office(), RE::StartReview, at(2)).unwrap();
    r.fire(&office(), RE::Approve, at(3)).unwrap();
    r.fire(&office(), RE::Start, at(4)).unwrap();
    r
}

/// The request machine as the issue and the Negotiator define it, written out once more.
const REQUEST_TABLE: &[(RE, RS, RS)] = &[
    (RE::Submit, RS::Draft, RS::Submitted),
    (RE::StartReview, RS::Submitted, RS::UnderReview),
    (
        RE::ReturnForChanges,
        RS::UnderReview,
        RS::ReturnedForChanges,
    ),
    (RE::Resubmit, RS::ReturnedForChanges, RS::Submitted),
    (RE::Approve, RS::UnderReview, RS::Approved),
    (RE::Decline, RS::UnderReview, RS::Declined),
    (RE::Start, RS::Approved, RS::InProgress),
    (RE::Pause, RS::InProgress, RS::Paused),
    (RE::Resume, RS::Paused, RS::InProgress),
    (RE::Close, RS::InProgress, RS::Closed),
    (RE::Close, RS::Paused, RS::Closed),
    (RE::Abandon, RS::Draft, RS::Abandoned),
    (RE::Abandon, RS::Submitted, RS::Abandoned),
    (RE::Abandon, RS::UnderReview, RS::Abandoned),
    (RE::Abandon, RS::ReturnedForChanges, RS::Abandoned),
    (RE::Abandon, RS::Approved, RS::Abandoned),
    (RE::Abandon, RS::InProgress, RS::Abandoned),
    (RE::Abandon, RS::Paused, RS::Abandoned),
    (RE::Reopen, RS::Closed, RS::InProgress),
    (RE::Reopen, RS::Abandoned, RS::Submitted),
    (RE::Reopen, RS::Declined, RS::UnderReview),
];

const COLLECTION_TABLE: &[(CE, CS, CS)] = &[
    (CE::Contact, CS::Submitted, CS::RepresentativeContacted),
    (
        CE::Contact,
        CS::RepresentativeUnreachable,
        CS::RepresentativeContacted,
    ),
    (
        CE::MarkUnreachable,
        CS::Submitted,
        CS::RepresentativeUnreachable,
    ),
    (
        CE::ReturnForResubmission,
        CS::RepresentativeContacted,
        CS::ReturnedForResubmission,
    ),
    (
        CE::ReturnForResubmission,
        CS::CheckingAvailability,
        CS::ReturnedForResubmission,
    ),
    (
        CE::Resubmit,
        CS::ReturnedForResubmission,
        CS::RepresentativeContacted,
    ),
    (
        CE::CheckAvailability,
        CS::RepresentativeContacted,
        CS::CheckingAvailability,
    ),
    (CE::MarkAvailable, CS::CheckingAvailability, CS::Available),
    (
        CE::MarkWillingToCollect,
        CS::CheckingAvailability,
        CS::UnavailableWillingToCollect,
    ),
    (
        CE::MarkNotAvailable,
        CS::CheckingAvailability,
        CS::NotAvailable,
    ),
    (
        CE::IndicateConditions,
        CS::Available,
        CS::AccessConditionsIndicated,
    ),
    (
        CE::IndicateConditions,
        CS::UnavailableWillingToCollect,
        CS::AccessConditionsIndicated,
    ),
    (
        CE::AcceptConditions,
        CS::AccessConditionsIndicated,
        CS::AccessConditionsMet,
    ),
    (
        CE::MakeAvailable,
        CS::AccessConditionsMet,
        CS::MadeAvailable,
    ),
    (CE::Decline, CS::RepresentativeContacted, CS::Declined),
    (CE::Decline, CS::CheckingAvailability, CS::Declined),
    (CE::Decline, CS::Available, CS::Declined),
    (CE::Decline, CS::UnavailableWillingToCollect, CS::Declined),
    (CE::Decline, CS::AccessConditionsIndicated, CS::Declined),
    (CE::Decline, CS::AccessConditionsMet, CS::Declined),
];

/// An actor of `role` entitled to act on `r`'s first collection.
fn entitled(role: Role) -> Actor {
    match role {
        Role::NetworkOffice => office(),
        Role::Researcher => alice(),
        Role::SiteSteward => steward("de-uni"),
    }
}

#[test]
fn every_request_transition_allowed_and_refused() {
    for &event in RE::ALL {
        for &from in RS::ALL {
            let expected = REQUEST_TABLE
                .iter()
                .find(|(e, f, _)| *e == event && *f == from)
                .map(|t| t.2);
            assert_eq!(event.next(from), expected, "{event} from {from}");
            // Fired by each entitled role on a request in `from`.
            for &role in event.roles() {
                let mut r = with_papers();
                r.state = from;
                let before = r.clone();
                match (r.fire(&entitled(role), event, at(9)), expected) {
                    (Ok(t), Some(to)) => {
                        assert_eq!(r.state, to);
                        assert_eq!(
                            (t.from.as_str(), t.to.as_str()),
                            (from.as_str(), to.as_str())
                        );
                        assert_eq!(r.history.last(), Some(&t));
                    }
                    (
                        Err(RequestError::RequestTransition {
                            from: f, event: e, ..
                        }),
                        None,
                    ) => {
                        assert_eq!((f, e), (from, event));
                        assert_eq!(r, before, "a refused {event} changed the request");
                    }
                    (got, want) => {
                        panic!("{event} from {from} by {role:?}: {got:?}, expected {want:?}")
                    }
                }
            }
        }
    }
}

#[test]
fn request_events_refuse_other_roles() {
    for &event in RE::ALL {
        for role in [Role::NetworkOffice, Role::Researcher, Role::SiteSteward] {
            if event.roles().contains(&role) {
                continue;
            }
            for &from in RS::ALL {
                let mut r = with_papers();
                r.state = from;
                let before = r.clone();
                let e = r.fire(&entitled(role), event, at(9)).unwrap_err();
                assert!(
                    matches!(e, RequestError::Role { role: r2, .. } if r2 == role),
                    "{event} by {role:?}: {e}"
                );
                assert_eq!(r, before);
            }
        }
    }
}

#[test]
fn every_collection_transition_allowed_and_refused() {
    for &event in CE::ALL {
        for &from in CS::ALL {
            let expected = COLLECTION_TABLE
                .iter()
                .find(|(e, f, _)| *e == event && *f == from)
                .map(|t| t.2);
            assert_eq!(event.next(from), expected, "{event} from {from}");
            for &role in event.roles() {
                let mut r = in_progress();
                r.collections[0].state = from;
                let before = r.clone();
                match (
                    r.fire_collection(&entitled(role), "de-sera", event, at(9)),
                    expected,
                ) {
                    (Ok(t), Some(to)) => {
                        assert_eq!(r.collections[0].state, to);
                        assert_eq!(
                            r.collections[1], before.collections[1],
                            "the other collection moved"
                        );
                        assert_eq!(t.collection.as_deref(), Some("de-sera"));
                    }
                    (
                        Err(RequestError::CollectionTransition {
                            from: f, event: e, ..
                        }),
                        None,
                    ) => {
                        assert_eq!((f, e), (from, event));
                        assert_eq!(r, before);
                    }
                    (got, want) => {
                        panic!("{event} from {from} by {role:?}: {got:?}, expected {want:?}")
                    }
                }
            }
        }
    }
}

#[test]
fn collection_events_refuse_other_roles() {
    for &event in CE::ALL {
        for role in [Role::NetworkOffice, Role::Researcher, Role::SiteSteward] {
            if !event.roles().contains(&role) {
                let mut r = in_progress();
                let before = r.clone();
                let e = r
                    .fire_collection(&entitled(role), "de-sera", event, at(9))
                    .unwrap_err();
                assert!(
                    matches!(e, RequestError::Role { .. }),
                    "{event} by {role:?}: {e}"
                );
                assert_eq!(r, before);
            }
        }
    }
}

#[test]
fn a_site_cannot_answer_for_another_site() {
    let mut r = in_progress();
    r.fire_collection(&office(), "de-sera", CE::Contact, at(5))
        .unwrap();
    let before = r.clone();
    let e = r
        .fire_collection(&steward("jp-jihs"), "de-sera", CE::CheckAvailability, at(6))
        .unwrap_err();
    assert_eq!(
        e,
        RequestError::OtherSite {
            collection: "de-sera".into(),
            holder: "de-uni".into(),
            site: "jp-jihs".into()
        }
    );
    assert_eq!(r, before);
    // its own collection it can
    r.fire_collection(&office(), "jp-sfts", CE::Contact, at(7))
        .unwrap();
    r.fire_collection(&steward("jp-jihs"), "jp-sfts", CE::CheckAvailability, at(8))
        .unwrap();
    assert_eq!(r.collections[1].state, CS::CheckingAvailability);
    // a site with no collection in the request cannot post to it
    let e = r
        .post(&steward("de-other"), None, "hello", at(9))
        .unwrap_err();
    assert!(matches!(e, RequestError::NotInvolved { .. }));
    assert!(!r.visible_to(&steward("de-other")));
}

#[test]
fn a_closed_request_is_reopened_by_the_office_only() {
    let mut r = in_progress();
    r.fire(&alice(), RE::Close, at(5)).unwrap();
    let before = r.clone();
    for actor in [alice(), bob(), steward("de-uni")] {
        assert!(matches!(
            r.fire(&actor, RE::Reopen, at(6)),
            Err(RequestError::Role { .. })
        ));
        assert_eq!(r, before);
    }
    r.fire(&office(), RE::Reopen, at(7)).unwrap();
    assert_eq!(r.state, RS::InProgress);
}

#[test]
fn only_the_owner_acts_as_researcher() {
    let mut r = with_papers();
    let before = r.clone();
    let e = r.fire(&bob(), RE::Submit, at(1)).unwrap_err();
    assert_eq!(
        e,
        RequestError::NotOwner {
            id: "r1".into(),
            owner: "alice".into(),
            user: "bob".into()
        }
    );
    assert_eq!(r, before);
    assert!(!r.visible_to(&bob()) && r.visible_to(&alice()) && r.visible_to(&office()));
}

#[test]
fn submission_needs_ethics_approval_and_protocol() {
    let mut r = draft();
    let e = r.fire(&alice(), RE::Submit, at(1)).unwrap_err();
    assert_eq!(e, RequestError::MissingEthicsApproval { id: "r1".into() });
    assert_eq!(r.state, RS::Draft);
    assert!(r.history.is_empty());
    r.attach(
        &alice(),
        Attachment::of_bytes(
            AttachmentKind::EthicsApproval,
            "e.pdf",
            "application/pdf",
            b"ok",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        r.fire(&alice(), RE::Submit, at(1)).unwrap_err(),
        RequestError::MissingProtocol { id: "r1".into() }
    );
    r.attach(
        &alice(),
        Attachment::of_bytes(AttachmentKind::Protocol, "p.pdf", "application/pdf", b"ok").unwrap(),
    )
    .unwrap();
    r.fire(&alice(), RE::Submit, at(1)).unwrap();
    // past the draft, no more attachments
    let e = r
        .attach(
            &alice(),
            Attachment::of_bytes(AttachmentKind::Other, "x.txt", "text/plain", b"x").unwrap(),
        )
        .unwrap_err();
    assert!(matches!(
        e,
        RequestError::AttachmentClosed {
            state: RS::Submitted,
            ..
        }
    ));
}

#[test]
fn attachments_are_content_addressed_and_bounded() {
    let a = Attachment::of_bytes(AttachmentKind::Other, "a.txt", "text/plain", b"abc").unwrap();
    assert_eq!(
        a.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(a.size, 3);
    let big = vec![0u8; MAX_ATTACHMENT_BYTES as usize + 1];
    let e = Attachment::of_bytes(AttachmentKind::Protocol, "p.pdf", "application/pdf", &big)
        .unwrap_err();
    assert!(
        matches!(e, RequestError::AttachmentTooLarge { size, .. } if size == MAX_ATTACHMENT_BYTES + 1)
    );
    assert!(Attachment::of_bytes(AttachmentKind::Other, "../etc/passwd", "", b"").is_err());
}

#[test]
fn collections_move_only_while_in_progress() {
    let mut r = with_papers();
    r.fire(&alice(), RE::Submit, at(1)).unwrap();
    let before = r.clone();
    let e = r
        .fire_collection(&office(), "de-sera", CE::Contact, at(2))
        .unwrap_err();
    assert_eq!(
        e,
        RequestError::NotInProgress {
            id: "r1".into(),
            state: RS::Submitted
        }
    );
    assert_eq!(r, before);
    let e = r
        .fire_collection(&office(), "nope", CE::Contact, at(2))
        .unwrap_err();
    assert!(matches!(e, RequestError::UnknownCollection { .. }));
}

#[test]
fn the_whole_path_to_samples_made_available() {
    let mut r = in_progress();
    let de = steward("de-uni");
    r.fire_collection(&office(), "de-sera", CE::Contact, at(5))
        .unwrap();
    r.fire_collection(&office(), "jp-sfts", CE::MarkUnreachable, at(5))
        .unwrap();
    r.fire_collection(&de, "de-sera", CE::CheckAvailability, at(6))
        .unwrap();
    r.post(&de, Some("de-sera"), "How many aliquots per donor?", at(7))
        .unwrap();
    r.post(&alice(), Some("de-sera"), "Two.", at(8)).unwrap();
    r.fire_collection(&de, "de-sera", CE::MarkAvailable, at(9))
        .unwrap();
    r.fire_collection(&de, "de-sera", CE::IndicateConditions, at(10))
        .unwrap();
    r.fire_collection(&alice(), "de-sera", CE::AcceptConditions, at(11))
        .unwrap();
    r.fire_collection(&de, "de-sera", CE::MakeAvailable, at(12))
        .unwrap();
    r.fire(&alice(), RE::Close, at(13)).unwrap();
    assert_eq!(r.collections[0].state, CS::MadeAvailable);
    assert_eq!(r.collections[1].state, CS::RepresentativeUnreachable);
    assert_eq!(r.state, RS::Closed);
    assert_eq!(r.history.len(), 4 + 8);
    assert_eq!(r.messages.len(), 2);
    // the request round-trips as JSON (how the hub stores it)
    let back: AccessRequest = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);

    // the activity report counts what happened within its span, once each
    let all = activity::activity(std::slice::from_ref(&r), at(0), at(59));
    let want = activity::RequestActivity {
        submitted: 1,
        approved: 1,
        declined: 0,
        made_available: 1,
        closed: 1,
    };
    assert_eq!(all, want);
    // minutes 5..12: the collections moved, the request was not submitted, approved or closed
    let later = activity::activity(std::slice::from_ref(&r), at(5), at(13));
    assert_eq!(
        later,
        activity::RequestActivity {
            made_available: 1,
            ..Default::default()
        }
    );
    // a resubmission after changes is not a second submission
    let mut again = with_papers();
    again.fire(&alice(), RE::Submit, at(1)).unwrap();
    again.fire(&office(), RE::StartReview, at(2)).unwrap();
    again.fire(&office(), RE::ReturnForChanges, at(3)).unwrap();
    again.fire(&alice(), RE::Resubmit, at(4)).unwrap();
    assert_eq!(
        activity::activity(&[again.clone()], at(0), at(59)).submitted,
        1
    );
    assert_eq!(activity::activity(&[again], at(4), at(59)).submitted, 0);
}

#[test]
fn new_requests_are_checked() {
    let q = RequestQuery::default();
    assert!(matches!(
        AccessRequest::new(
            "r",
            "a",
            " ",
            "d",
            q.clone(),
            &[("c".into(), "s".into())],
            at(0)
        ),
        Err(RequestError::Text { field: "title", .. })
    ));
    assert!(matches!(
        AccessRequest::new("r", "a", "t", "d", q.clone(), &[], at(0)),
        Err(RequestError::Collections { .. })
    ));
    assert!(matches!(
        AccessRequest::new(
            "r",
            "a",
            "t",
            "d",
            q,
            &[("c".into(), "s".into()), ("c".into(), "s".into())],
            at(0)
        ),
        Err(RequestError::Collections { .. })
    ));
}

#[derive(Debug, Clone)]
enum Step {
    Request(usize, RE),
    Collection(usize, usize, CE),
    Post(usize, Option<usize>),
}

fn actors() -> Vec<Actor> {
    vec![
        office(),
        alice(),
        bob(),
        steward("de-uni"),
        steward("jp-jihs"),
        steward("de-other"),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..6usize, 0..RE::ALL.len()).prop_map(|(a, e)| Step::Request(a, RE::ALL[e])),
        (0..6usize, 0..3usize, 0..CE::ALL.len()).prop_map(|(a, c, e)| Step::Collection(
            a,
            c,
            CE::ALL[e]
        )),
        (0..6usize, proptest::option::of(0..2usize)).prop_map(|(a, c)| Step::Post(a, c)),
    ]
}

proptest! {
    /// Whatever anyone tries in whatever order: a refused step changes nothing, an accepted one
    /// follows the table, is recorded, and was fired by an entitled actor.
    #[test]
    fn refused_steps_change_nothing(started in any::<bool>(), steps in proptest::collection::vec(step(), 1..60)) {
        let actors = actors();
        let ids = ["de-sera", "jp-sfts", "missing"];
        let mut r = if started { in_progress() } else { with_papers() };
        for (n, s) in steps.into_iter().enumerate() {
            let before = r.clone();
            match s {
                Step::Request(a, e) => {
                    let actor = &actors[a];
                    match r.fire(actor, e, at(n as u32)) {
                        Ok(_) => {
                            prop_assert_eq!(Some(r.state), e.next(before.state));
                            prop_assert!(e.roles().contains(&actor.role()));
                            prop_assert_ne!(actor, &bob());
                            prop_assert_eq!(r.history.len(), before.history.len() + 1);
                            if before.state == RS::Closed {
                                prop_assert_eq!(actor.role(), Role::NetworkOffice);
                            }
                        }
                        Err(_) => prop_assert_eq!(&r, &before),
                    }
                }
                Step::Collection(a, c, e) => {
                    let actor = &actors[a];
                    match r.fire_collection(actor, ids[c], e, at(n as u32)) {
                        Ok(_) => {
                            prop_assert_eq!(before.state, RS::InProgress);
                            prop_assert_eq!(Some(r.collections[c].state), e.next(before.collections[c].state));
                            if let Actor::SiteSteward { site, .. } = actor {
                                prop_assert_eq!(site, &r.collections[c].site);
                            }
                            prop_assert!(e.roles().contains(&actor.role()));
                        }
                        Err(_) => prop_assert_eq!(&r, &before),
                    }
                }
                Step::Post(a, c) => {
                    if r.post(&actors[a], c.map(|c| ids[c]), "note", at(n as u32)).is_err() {
                        prop_assert_eq!(&r, &before);
                    } else {
                        prop_assert!(r.visible_to(&actors[a]));
                    }
                }
            }
        }
    }
}

#[test]
fn the_buttons_each_actor_gets_are_exactly_what_it_may_fire() {
    let r = with_papers();
    assert_eq!(
        r.available(&alice(), at(5)).request,
        [RE::Submit, RE::Abandon]
    );
    assert!(r.available(&office(), at(5)).request == [RE::Abandon]);
    assert_eq!(r.available(&bob(), at(5)), Available::default());
    let r = in_progress();
    let de = r.available(&steward("de-uni"), at(5));
    assert!(de.request.is_empty());
    // only its own collection, and nothing before the office contacts it
    assert!(de.collections.is_empty());
    let office_now = r.available(&office(), at(5));
    assert_eq!(
        office_now.collections,
        [
            ("de-sera".to_owned(), CE::Contact),
            ("de-sera".to_owned(), CE::MarkUnreachable),
            ("jp-sfts".to_owned(), CE::Contact),
            ("jp-sfts".to_owned(), CE::MarkUnreachable),
        ]
    );
    let mut r = r;
    r.fire_collection(&office(), "de-sera", CE::Contact, at(6))
        .unwrap();
    let de = r.available(&steward("de-uni"), at(7));
    assert!(de.collections.iter().all(|(c, _)| c == "de-sera"));
    assert!(
        de.collections
            .contains(&("de-sera".into(), CE::CheckAvailability))
    );
    assert!(
        r.available(&steward("jp-jihs"), at(7))
            .collections
            .is_empty()
    );
}
