//! Anchoring at the hub: every poll answer carries the hub's audit head signed with the hub's
//! key (the sites keep it), and every site's signed head is kept in
//! `<data>/anchors/<site>.jsonl` (see `kakehashi_audit::anchor`). Both sign or
//! write files: blocking, run through [`Hub::blocking`].

use crate::Hub;
use crate::db::SiteRow;
use kakehashi_audit::anchor::{self, Remembered, SignedHead};

/// The hub's audit head, signed now. Blocking (Ed25519).
pub fn signed_head(hub: &Hub) -> SignedHead {
    let (seq, hash) = hub.audit.head_seq();
    SignedHead::sign(&hub.key, seq, &hash)
}

/// Keeps a site's signed head, when signed by the key the site registered with. A head that
/// contradicts the last one kept (the site's log went back) is kept too and written to the
/// hub's audit log as `site_head_conflict`. Never fails the poll: a head that cannot be kept
/// is logged. Blocking (file I/O).
pub fn remember_site_head(hub: &Hub, site: &SiteRow, head: &SignedHead) {
    if head.key != site.public_key {
        tracing::warn!(site = %site.id, "a signed audit head under another key than the site's; not kept");
        return;
    }
    let file = anchor::site_heads_file(&hub.cfg.data_dir, site.id.as_str());
    match anchor::remember(&file, head) {
        Ok(Remembered::New | Remembered::Same) => {}
        Ok(Remembered::Conflict(reason)) => {
            tracing::error!(site = %site.id, %reason, "a site's audit log went back");
            let _ = hub.audit_log(
                "site_head_conflict",
                serde_json::json!({"site": site.id, "reason": reason, "seq": head.seq, "hash": head.hash}),
            );
        }
        Err(e) => {
            tracing::warn!(site = %site.id, error = %e, "could not keep the site's signed head")
        }
    }
}
