//! Anchoring at the hub: every poll answer carries the hub's audit head signed with the hub's
//! key (the sites keep it), and every site's signed head is kept in
//! `<data>/anchors/<site>.jsonl` (see `kakehashi_federation::audit::anchor`).

use crate::Hub;
use kakehashi_federation::audit::anchor::{self, Remembered, SignedHead};
use kakehashi_model::SiteId;

impl Hub {
    /// The hub's audit head, signed now.
    pub fn signed_head(&self) -> SignedHead {
        let (seq, hash) = self.audit.head_seq();
        SignedHead::sign(&self.key, seq, &hash)
    }

    /// Keeps a site's signed head, when signed by the key the site registered with. A head
    /// that contradicts the last one kept (the site's log went back) is kept too and written
    /// to the hub's audit log as `site_head_conflict`.
    pub fn remember_site_head(&self, site: &SiteId, registered_key: &str, head: &SignedHead) {
        if head.key != registered_key {
            tracing::warn!(site = %site, "a signed audit head under another key than the site's; not kept");
            return;
        }
        let file = anchor::site_heads_file(&self.cfg.data_dir, site.as_str());
        match anchor::remember(&file, head) {
            Ok(Remembered::New | Remembered::Same) => {}
            Ok(Remembered::Conflict(reason)) => {
                tracing::error!(site = %site, %reason, "a site's audit log went back");
                let _ = self.audit_log(
                    "site_head_conflict",
                    serde_json::json!({"site": site, "reason": reason, "seq": head.seq, "hash": head.hash}),
                );
            }
            Err(e) => {
                tracing::warn!(site = %site, error = %e, "could not keep the site's signed head")
            }
        }
    }
}
