//! SQL in every text field: stored and read back verbatim, and nothing else changes (no
//! table dropped, no role raised, no other row touched). The ids that reach the store are
//! checked before (`SiteId`, `ProjectId`, `TaskId`: letters, digits, `-_.`), so the strings
//! go into every free-text field and every lookup key.

use super::Fresh;
use super::cases::{key, sid, signed, task, user};
use chrono::{Duration, Utc};
use kakehashi_federation::Envelope;
use kakehashi_hub::db::{Role, Stored};
use kakehashi_model::{Country, ProjectId};

/// Attempts at SQL injection in both dialects (quotes, comments, stacked statements, dollar
/// quoting, parameter markers, `LIKE` wildcards, backslashes, non-ASCII).
pub const NASTY: &[&str] = &[
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE tasks;--",
    "\" OR \"1\"=\"1",
    "' OR '1'='1' --",
    "x' UNION SELECT name, password_hash, role, site FROM users --",
    "?1 ?2 $1 $2 :name @p",
    "\\'; SELECT pg_sleep(10); --",
    "%_\\%",
    "1; UPDATE users SET role = 'admin'",
    "$$; DROP TABLE members; $$",
    "/* */ ATTACH DATABASE '/tmp/x' AS x; --",
    "日本語の'引用'と\"二重\"",
];

pub fn sql_in_every_text_field_is_stored_verbatim_and_changes_nothing_else(fresh: Fresh<'_>) {
    let db = fresh().open();
    db.put_user("sentinel", "sentinel-hash", Role::Researcher, None)
        .unwrap();
    db.put_project(
        &ProjectId::new("p0").unwrap(),
        "untouched",
        &["sentinel".into()],
    )
    .unwrap();
    db.put_site(&sid("de-0"), "untouched", Country::Germany, "k0", "tok-0")
        .unwrap();
    let p1 = ProjectId::new("p1").unwrap();
    let key = key();
    for (i, s) in NASTY.iter().enumerate() {
        let s = *s;
        // users: name, password hash, site, language; sessions and tokens: secret and label
        db.put_user(s, s, Role::Steward, Some(s)).unwrap();
        db.set_lang(s, s).unwrap();
        let (u, h) = db.user_with_hash(s).unwrap().unwrap();
        assert_eq!(
            (
                u.name.as_str(),
                h.as_str(),
                u.site.as_deref(),
                u.lang.as_str()
            ),
            (s, s, Some(s), s)
        );
        assert!(db.user_exists(s).unwrap());
        db.put_session(s, s, Utc::now() + Duration::hours(1))
            .unwrap();
        assert_eq!(db.session_user(s, super::idle()).unwrap().unwrap().name, s);
        db.put_token(&format!("{s}#token"), s, s, super::later())
            .unwrap();
        assert_eq!(
            db.token_user(&format!("{s}#token")).unwrap().unwrap().name,
            s
        );
        // projects: title and members
        db.put_project(&p1, s, &[s.to_owned()]).unwrap();
        assert!(db.is_member("p1", s).unwrap());
        let mine = db.projects_of(&user(s, Role::Researcher)).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].title, s);
        assert!(mine[0].members.iter().any(|m| m == s));
        // sites: name, key, token, version, audit head
        let site = sid(&format!("de-{}", i + 1));
        db.put_site(&site, s, Country::Japan, s, s).unwrap();
        let policy = kakehashi_disclosure::Policy::default().summary();
        db.site_seen(&site, None, &policy, s, s).unwrap();
        let row = db.site_by_token(s).unwrap().unwrap();
        assert_eq!(
            (row.id.as_str(), row.name.as_str(), row.public_key.as_str()),
            (site.as_str(), s, s)
        );
        assert_eq!(
            (row.version.as_deref(), row.audit_head.as_deref()),
            (Some(s), Some(s))
        );
        // tasks: who asked, the question's JSON; answers: body and signature; holds: state
        let t = format!("t{i}");
        db.put_task(&task(&t, "p1", s, 10), &[site.clone(), sid("de-0")])
            .unwrap();
        assert_eq!(db.task(&t).unwrap().unwrap().requested_by, s);
        assert!(
            db.tasks_for(&user(s, Role::Researcher), Some("p1"), 100)
                .unwrap()
                .iter()
                .any(|x| x.id.as_str() == t)
        );
        let (answer, env) = signed(&key, site.as_str(), &t, s);
        let env = Envelope {
            signature: s.to_owned(),
            ..env
        };
        assert_eq!(
            db.put_answer(&answer, &env, Utc::now()).unwrap(),
            Stored::New
        );
        assert_eq!(
            db.put_answer(&answer, &env, Utc::now()).unwrap(),
            Stored::Same
        );
        assert_eq!(db.answers(&t).unwrap()[0].0, answer);
        assert!(db.put_hold(&t, &sid("de-0"), s, Utc::now()).unwrap());
        assert_eq!(db.holds(&t).unwrap()[0].0, "de-0");
    }
    // lookups by the strings find exactly their own rows, and nothing else changed
    let n = NASTY.len();
    assert_eq!(db.user_count().unwrap() as usize, n + 1);
    let (sentinel, h) = db.user_with_hash("sentinel").unwrap().unwrap();
    assert_eq!(
        (sentinel.role, h.as_str(), sentinel.lang.as_str()),
        (Role::Researcher, "sentinel-hash", "en")
    );
    assert!(db.user_with_hash("' OR '1'='1").unwrap().is_none());
    assert!(
        db.session_user("' OR '1'='1", super::idle())
            .unwrap()
            .is_none()
    );
    assert!(db.token_user("' OR '1'='1").unwrap().is_none());
    assert!(db.site_by_token("' OR '1'='1").unwrap().is_none());
    let all = db.projects_of(&user("root", Role::Admin)).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].title.as_str(), all[0].members.as_slice()),
        ("untouched", ["sentinel".to_owned()].as_slice())
    );
    assert_eq!(all[1].title, NASTY[n - 1], "the last title written");
    assert_eq!(all[1].members.len(), n);
    let sites = db.sites().unwrap();
    assert_eq!(sites.len(), n + 1);
    assert_eq!(sites[0].name, "untouched");
    assert_eq!(
        db.tasks_for(&user("root", Role::Admin), None, 1000)
            .unwrap()
            .len(),
        n
    );
    for i in 0..n {
        assert_eq!(db.answers(&format!("t{i}")).unwrap().len(), 1);
    }
}
