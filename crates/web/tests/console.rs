//! The steward console's pages render in every language with no untranslated key, and show the
//! site's text escaped (a body as sent is shown as text, never as markup).

use chrono::{TimeZone, Utc};
use kakehashi_web::Locale;
use kakehashi_web::console::*;
use kakehashi_web::i18n::MISSING_MARK;

fn chrome(locale: Locale, user: bool) -> ConsoleChrome {
    ConsoleChrome {
        locale,
        site: "de-berlin".into(),
        user: user.then(|| "steward".into()),
        active: "tasks".into(),
        path: "/tasks".into(),
        csrf: "c0ffee".into(),
        notice: Some("console-notice-approved".into()),
    }
}

fn line(state: &str, kind: &str) -> TaskLine {
    TaskLine {
        id: "t-1".into(),
        project: "p1".into(),
        researcher: "researcher".into(),
        kind: kind.into(),
        summary: "patients with <b>COVID-19</b>".into(),
        received: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        deadline: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
        state: state.into(),
        reason: (state == "refused").then(|| "refused by the site's data steward".into()),
        decided_by: Some("steward".into()),
        epsilon: Some(1.0),
        sent: state != "waiting",
    }
}

fn all_pages() -> Vec<ConsolePage> {
    let states = [
        "received", "waiting", "approved", "answered", "refused", "failed", "expired",
    ];
    let kinds = ["cohort", "antibiogram", "surveillance_series"];
    let recent: Vec<TaskLine> = states
        .iter()
        .zip(kinds.iter().cycle())
        .map(|(s, k)| line(s, k))
        .collect();
    vec![
        ConsolePage::Login(ConsoleLogin {
            username: "steward".into(),
            error: Some("console-err-credentials".into()),
        }),
        ConsolePage::Tasks(TasksPage {
            manual: true,
            queue: vec![line("waiting", "cohort")],
            recent: recent.clone(),
        }),
        ConsolePage::Tasks(TasksPage::default()),
        ConsolePage::Task(Box::new(TaskPage {
            task: line("waiting", "cohort"),
            spec: "{\"type\": \"cohort\"}".into(),
            can_decide: true,
            comment: None,
            error: Some("console-err-expired".into()),
        })),
        ConsolePage::Policy(PolicyPage {
            min_count: 5,
            rounding: 10,
            epsilon: Some(1.0),
            budget: Some(20.0),
            projects: vec!["*".into()],
            manual: false,
            hub: "https://hub.example.org".into(),
        }),
        ConsolePage::Ledger(LedgerPage {
            projects: vec![LedgerLine {
                project: "p1".into(),
                questions: 3,
                epsilon: 3.0,
                budget: Some(20.0),
                remaining: Some(17.0),
            }],
            researchers: vec![ResearcherLine {
                researcher: "researcher".into(),
                project: "p1".into(),
                answered: 3,
                epsilon: 3.0,
            }],
        }),
        ConsolePage::Ledger(LedgerPage::default()),
        ConsolePage::Released(ReleasedPage {
            rows: vec![SentLine {
                task: line("answered", "antibiogram"),
                at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 1, 0).unwrap(),
            }],
        }),
        ConsolePage::Sent(Box::new(SentPage {
            task: line("answered", "cohort"),
            at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 1, 0).unwrap(),
            body: "{\"note\":\"<script>alert(1)</script>\"}".into(),
            sha256: "ab".repeat(32),
            signature: "c2ln".into(),
        })),
        ConsolePage::Error {
            status: 404,
            key: "error-not-found".into(),
        },
    ]
}

#[test]
fn every_console_page_renders_in_every_language_without_untranslated_keys() {
    for locale in Locale::ALL {
        for page in all_pages() {
            let html = render_console(&page, &chrome(locale, true)).unwrap();
            if let Some(pos) = html.find(MISSING_MARK) {
                panic!(
                    "{locale}: untranslated key in {page:?}: {}",
                    &html[pos..(pos + 60).min(html.len())]
                );
            }
            assert!(html.contains(&format!("<html lang=\"{}\">", locale.code())));
        }
    }
}

#[test]
fn the_console_escapes_site_text_and_carries_the_csrf_token() {
    let pages = all_pages();
    let sent = render_console(&pages[8], &chrome(Locale::En, true)).unwrap();
    assert!(!sent.contains("<script>"), "{sent}");
    assert!(
        sent.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{sent}"
    );
    let task = render_console(&pages[3], &chrome(Locale::De, true)).unwrap();
    assert!(!task.contains("<b>COVID-19</b>"));
    // both decision forms and the sign-out carry the session's token
    assert_eq!(
        task.matches("name=\"csrf\" value=\"c0ffee\"").count(),
        3,
        "{task}"
    );
    assert!(task.contains("Freigeben und beantworten"));
    // signed out: no navigation, no sign-out form
    let login = render_console(&pages[0], &chrome(Locale::Ja, false)).unwrap();
    assert!(!login.contains("/logout") && !login.contains("/ledger"));
    assert!(login.contains("ユーザー名またはパスワードが違います"));
}
