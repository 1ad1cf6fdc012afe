//! Identity in the store (migration 3), each case on a new database: sessions' absolute and
//! idle ends, token expiry and revocation, disabling a user with live sessions, OpenID
//! sign-ins under way taken once, users linked by issuer and subject, SQL in the new text
//! fields.

use super::injection::NASTY;
use super::{Fresh, idle, later};
use chrono::{Duration, Utc};
use kakehashi_hub::auth::oidc::Pending;
use kakehashi_hub::db::{Role, secret_hash};

pub fn sessions_end_absolutely_and_when_idle(fresh: Fresh<'_>) {
    let place = fresh();
    let db = place.open();
    db.put_user("alice", "h", Role::Researcher, None).unwrap();
    db.put_session("s-old", "alice", Utc::now() - Duration::seconds(1))
        .unwrap();
    db.put_session("s-live", "alice", Utc::now() + Duration::hours(8))
        .unwrap();
    assert!(
        db.session_user("s-old", idle()).unwrap().is_none(),
        "past its absolute end"
    );
    assert_eq!(
        place.raw_int("SELECT count(*) FROM sessions"),
        1,
        "storing a session removed the one past its absolute end"
    );
    assert_eq!(
        db.session_user("s-live", idle()).unwrap().unwrap().name,
        "alice"
    );
    // idle: not used since idle_since
    assert!(
        db.session_user("s-live", Utc::now() + Duration::seconds(1))
            .unwrap()
            .is_none(),
        "idle since before the cut-off"
    );
    // a use marks it used, at most once a minute: aged 2 minutes, then used, it is fresh
    let ago = |m: i64| (Utc::now() - Duration::minutes(m)).to_rfc3339();
    let live = secret_hash("s-live");
    place.raw(&format!(
        "UPDATE sessions SET last_seen = '{}' WHERE hash = '{live}'",
        ago(2)
    ));
    let last_minute = Utc::now() - Duration::minutes(1);
    assert!(db.session_user("s-live", last_minute).unwrap().is_none());
    assert!(db.session_user("s-live", idle()).unwrap().is_some());
    assert!(db.session_user("s-live", last_minute).unwrap().is_some());
    // aged past the idle limit, a use does not revive it
    place.raw(&format!(
        "UPDATE sessions SET last_seen = '{}' WHERE hash = '{live}'",
        ago(31)
    ));
    assert!(db.session_user("s-live", idle()).unwrap().is_none());
    assert!(db.session_user("s-live", idle()).unwrap().is_none());
    assert_eq!(db.user_rows(idle()).unwrap()[0].sessions, 0);
}

pub fn tokens_expire_and_are_revoked(fresh: Fresh<'_>) {
    let db = fresh().open();
    for n in ["alice", "bob"] {
        db.put_user(n, "h", Role::Researcher, None).unwrap();
    }
    let gone = db
        .put_token("t-gone", "alice", "old", Utc::now() - Duration::seconds(1))
        .unwrap();
    let a1 = db.put_token("t-a1", "alice", "laptop", later()).unwrap();
    let a2 = db.put_token("t-a2", "alice", "cluster", later()).unwrap();
    let b1 = db.put_token("t-b1", "bob", "cli", later()).unwrap();
    assert_eq!(a1, secret_hash("t-a1")[..16], "the id is the hash's start");
    assert!(db.token_user("t-gone").unwrap().is_none(), "expired");
    let mut listed: Vec<_> = db
        .tokens_of("alice")
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.label))
        .collect();
    listed.sort();
    let mut want = vec![
        (a1.clone(), "laptop".into()),
        (a2.clone(), "cluster".into()),
    ];
    want.sort();
    assert_eq!(listed, want, "live tokens only, never {gone}");
    // one user cannot revoke another's token by its id
    assert!(!db.delete_token("bob", &a1).unwrap());
    assert!(db.token_user("t-a1").unwrap().is_some());
    assert!(db.delete_token("alice", &a1).unwrap());
    assert!(db.token_user("t-a1").unwrap().is_none());
    assert!(!db.delete_token("alice", &a1).unwrap(), "revoked once");
    let rows = db.user_rows(idle()).unwrap();
    assert_eq!((rows[0].name.as_str(), rows[0].tokens), ("alice", 1));
    // revoking all of alice's (the expired one too) leaves bob's
    assert_eq!(db.delete_tokens_of("alice").unwrap(), 2);
    assert!(db.token_user("t-a2").unwrap().is_none());
    assert_eq!(db.tokens_of("bob").unwrap()[0].id, b1);
    assert_eq!(db.token_user("t-b1").unwrap().unwrap().name, "bob");
}

pub fn a_disabled_user_loses_sessions_and_tokens_until_enabled(fresh: Fresh<'_>) {
    let db = fresh().open();
    for n in ["alice", "bob"] {
        db.put_user(n, "h", Role::Researcher, None).unwrap();
        db.put_session(&format!("s-{n}"), n, later()).unwrap();
        db.put_token(&format!("t-{n}"), n, "cli", later()).unwrap();
    }
    assert!(!db.user_disabled("alice").unwrap());
    assert!(db.set_disabled("alice", true).unwrap());
    assert!(db.user_disabled("alice").unwrap());
    assert!(db.session_user("s-alice", idle()).unwrap().is_none());
    assert!(db.token_user("t-alice").unwrap().is_none());
    let rows = db.user_rows(idle()).unwrap();
    assert_eq!(
        (rows[0].disabled, rows[0].sessions, rows[0].tokens),
        (true, 0, 1),
        "sessions end, tokens are kept but refused"
    );
    // bob is untouched
    assert!(db.session_user("s-bob", idle()).unwrap().is_some());
    assert!(!rows[1].disabled);
    // enabled again: the token works, the ended session stays ended, a new one works
    assert!(db.set_disabled("alice", false).unwrap());
    assert_eq!(db.token_user("t-alice").unwrap().unwrap().name, "alice");
    assert!(db.session_user("s-alice", idle()).unwrap().is_none());
    db.put_session("s-alice-2", "alice", later()).unwrap();
    assert!(db.session_user("s-alice-2", idle()).unwrap().is_some());
    assert!(!db.set_disabled("ghost", true).unwrap(), "no such user");
    assert_eq!(db.delete_sessions_of("bob").unwrap(), 1);
    assert!(db.session_user("s-bob", idle()).unwrap().is_none());
}

fn pending(n: &str) -> Pending {
    Pending {
        issuer: format!("iss-{n}"),
        nonce: format!("nonce-{n}"),
        verifier: format!("verifier-{n}"),
        next: format!("/next/{n}"),
    }
}

pub fn a_pending_sign_in_is_taken_once(fresh: Fresh<'_>) {
    let place = fresh();
    let db = place.open();
    db.put_pending("st-1", &pending("1"), later()).unwrap();
    db.put_pending("st-old", &pending("old"), Utc::now() - Duration::seconds(1))
        .unwrap();
    let p = db.take_pending("st-1").unwrap().unwrap();
    assert_eq!(
        (p.issuer, p.nonce, p.verifier, p.next),
        (
            "iss-1".into(),
            "nonce-1".into(),
            "verifier-1".into(),
            "/next/1".into()
        )
    );
    assert!(
        db.take_pending("st-1").unwrap().is_none(),
        "a replayed state"
    );
    assert!(db.take_pending("st-old").unwrap().is_none(), "expired");
    assert!(db.take_pending("st-unknown").unwrap().is_none());
    // the expired one went when taken; another expired one goes when a sign-in starts
    assert_eq!(place.raw_int("SELECT count(*) FROM oidc_pending"), 0);
    db.put_pending(
        "st-old-2",
        &pending("o2"),
        Utc::now() - Duration::seconds(1),
    )
    .unwrap();
    db.put_pending("st-2", &pending("2"), later()).unwrap();
    assert_eq!(place.raw_int("SELECT count(*) FROM oidc_pending"), 1);
    // the state is stored as its hash, never in clear
    assert_eq!(
        place.raw_int(&format!(
            "SELECT count(*) FROM oidc_pending WHERE state_hash = '{}'",
            secret_hash("st-2")
        )),
        1
    );
    // callbacks racing with one state through several connections: exactly one gets it
    let dbs: Vec<_> = (0..4).map(|_| place.open()).collect();
    for round in 0..5 {
        let state = format!("race-{round}");
        db.put_pending(&state, &pending(&state), later()).unwrap();
        let got: usize = std::thread::scope(|s| {
            let h: Vec<_> = dbs
                .iter()
                .map(|d| s.spawn(|| d.take_pending(&state).unwrap().is_some()))
                .collect();
            h.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
        });
        assert_eq!(got, 1, "round {round}: one callback wins");
    }
}

pub fn users_are_linked_by_issuer_and_subject(fresh: Fresh<'_>) {
    let place = fresh();
    let db = place.open();
    db.put_user("bob", "argon-hash", Role::Researcher, None)
        .unwrap();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = db
        .create_linked_user(
            &names(&["bob", "bob-2"]),
            "dfn",
            "sub-b",
            Role::Steward,
            Some("de-a"),
        )
        .unwrap();
    assert_eq!(first, "bob-2", "a taken name is skipped");
    let (u, disabled) = db.user_by_subject("dfn", "sub-b").unwrap().unwrap();
    assert_eq!(
        (u.name.as_str(), u.role, u.site.as_deref(), disabled),
        ("bob-2", Role::Steward, Some("de-a"), false)
    );
    // the same subject at another issuer is someone else
    assert!(db.user_by_subject("gakunin", "sub-b").unwrap().is_none());
    let other = db
        .create_linked_user(
            &names(&["bob-2", "bob-3"]),
            "gakunin",
            "sub-b",
            Role::Researcher,
            None,
        )
        .unwrap();
    assert_eq!(other, "bob-3");
    // one issuer's subject links one user
    assert!(
        db.create_linked_user(&names(&["x"]), "dfn", "sub-b", Role::Admin, None)
            .is_err()
    );
    assert!(!db.user_exists("x").unwrap());
    assert!(
        db.create_linked_user(&names(&["bob"]), "dfn", "sub-z", Role::Admin, None)
            .is_err(),
        "no free name"
    );
    assert_eq!(db.user_with_hash("bob").unwrap().unwrap().1, "argon-hash");
    assert_eq!(db.user_with_hash("bob-2").unwrap().unwrap().1, "!oidc");
    // roles follow the claims at each sign-in
    db.set_role("bob-2", Role::Researcher, None).unwrap();
    db.touch_login("bob-2").unwrap();
    let rows = db.user_rows(idle()).unwrap();
    let sources: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.source.as_str(),
                r.role,
                r.last_login.is_some(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("bob", "local", Role::Researcher, false),
            ("bob-2", "dfn", Role::Researcher, true),
            ("bob-3", "gakunin", Role::Researcher, false),
        ]
    );
    db.set_disabled("bob-3", true).unwrap();
    assert!(db.user_by_subject("gakunin", "sub-b").unwrap().unwrap().1);
}

pub fn sql_in_the_identity_fields_is_stored_verbatim(fresh: Fresh<'_>) {
    let place = fresh();
    let db = place.open();
    db.put_user("sentinel", "h", Role::Researcher, None)
        .unwrap();
    db.put_token("t-sentinel", "sentinel", "keep", later())
        .unwrap();
    for (i, s) in NASTY.iter().enumerate() {
        let s = *s;
        // issuer, subject and the user name they make
        let name = db
            .create_linked_user(&[s.to_owned()], s, s, Role::Researcher, None)
            .unwrap();
        assert_eq!(name, s);
        assert_eq!(db.user_by_subject(s, s).unwrap().unwrap().0.name, s);
        assert!(db.user_by_subject(s, "other").unwrap().is_none());
        db.touch_login(s).unwrap();
        // a token's label and id
        let id = db.put_token(&format!("{s}#t"), s, s, later()).unwrap();
        assert_eq!(db.tokens_of(s).unwrap()[0].label, s);
        assert!(!db.delete_token(s, s).unwrap(), "the text is no id");
        assert!(db.delete_token(s, &id).unwrap());
        // a sign-in under way: state, issuer, nonce, verifier, next
        let p = Pending {
            issuer: s.into(),
            nonce: s.into(),
            verifier: s.into(),
            next: s.into(),
        };
        db.put_pending(s, &p, later()).unwrap();
        let back = db.take_pending(s).unwrap().unwrap();
        assert_eq!([back.issuer, back.nonce, back.verifier, back.next], [s; 4]);
        assert!(db.take_pending(s).unwrap().is_none());
        // disabling by that name disables that user only
        assert!(db.set_disabled(s, true).unwrap());
        assert_eq!(db.delete_sessions_of(s).unwrap(), 0);
        assert_eq!(db.delete_tokens_of(s).unwrap(), 0);
        assert_eq!(db.user_count().unwrap(), i as u64 + 2);
    }
    assert!(!db.user_disabled("sentinel").unwrap());
    assert_eq!(
        db.token_user("t-sentinel").unwrap().unwrap().name,
        "sentinel"
    );
    let rows = db.user_rows(idle()).unwrap();
    assert_eq!(rows.iter().filter(|r| r.disabled).count(), NASTY.len());
    assert_eq!(place.raw_int("SELECT count(*) FROM tokens"), 1);
}
