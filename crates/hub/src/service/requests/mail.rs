//! The e-mail each request transition sends (topic `requests`, in each recipient's
//! language): to the researcher, the network office and the stewards of the sites it
//! concerns (a collection's event: that collection's site; the request's own events once it
//! has reached the collections: every site it asks), never to the one who acted.

use crate::Hub;
use crate::db::Role;
use crate::service::ApiResult;
use crate::service::notify::enqueue;
use chrono::{DateTime, Utc};
use kakehashi_biobank::request::{AccessRequest, RequestState, Transition};
use kakehashi_web::i18n::Arg;
use kakehashi_web::{Catalog, Locale};
use std::collections::BTreeSet;

/// Who hears of `t` on `r`.
fn recipients(
    hub: &Hub,
    r: &AccessRequest,
    t: &Transition,
    actor: &str,
) -> ApiResult<BTreeSet<String>> {
    let sites: BTreeSet<&str> = match &t.collection {
        Some(c) => r
            .collections
            .iter()
            .filter(|x| x.id == *c)
            .map(|x| x.site.as_str())
            .collect(),
        None if matches!(
            r.state,
            RequestState::InProgress
                | RequestState::Paused
                | RequestState::Closed
                | RequestState::Abandoned
        ) =>
        {
            r.collections.iter().map(|x| x.site.as_str()).collect()
        }
        None => BTreeSet::new(),
    };
    let mut to: BTreeSet<String> = BTreeSet::from([r.researcher.clone()]);
    for u in hub.db.user_rows(Utc::now())? {
        if u.disabled {
            continue;
        }
        let steward_here =
            u.role == Role::Steward && u.site.as_deref().is_some_and(|s| sites.contains(s));
        if u.role == Role::Admin || steward_here {
            to.insert(u.name);
        }
    }
    to.remove(actor);
    Ok(to)
}

/// Stores the messages telling of `t`; each is keyed by the request and the transition's
/// place in its history, so it is stored once.
pub(super) fn transition(
    hub: &Hub,
    r: &AccessRequest,
    t: &Transition,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let url = hub.cfg.url();
    let key = format!("request:{}:{}", r.id, r.history.len());
    let c = Catalog::global();
    for name in recipients(hub, r, t, actor)? {
        let Some(to) = hub.db.recipient(&name)? else {
            continue;
        };
        let l = Locale::from_code(&to.lang).unwrap_or(Locale::En);
        let s = |v: &str| Arg::Str(v.to_owned());
        let args = [
            ("title", s(&r.title)),
            ("who", s(actor)),
            ("event", s(&t.event)),
            ("from", s(&t.from)),
            ("to", s(&t.to)),
            ("collection", s(t.collection.as_deref().unwrap_or("-"))),
            ("link", s(&format!("{url}/requests/{}", r.id))),
        ];
        let subject = c.text(l, "mail-request-subject", &args);
        let body = format!(
            "{}\n\n-- \n{}\n",
            c.text(l, "mail-request-body", &args),
            c.text(
                l,
                "mail-footer",
                &[("link", s(&format!("{url}/notifications")))]
            )
        );
        enqueue(hub, &key, &name, "requests", &subject, &body, now)?;
    }
    Ok(())
}
