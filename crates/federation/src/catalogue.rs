//! A site's catalogue at the hub: what a site sends (`POST /api/site/catalogue`) so that the
//! hub can show one network catalogue. It is the steward's MIABIS Core 3 file as written
//! (`catalogue.toml` or `catalogue.json`): aggregate metadata about biobanks and collections
//! (names, contacts, material types, diseases, the totals the steward declares), never a
//! record of a patient or a specimen. The hub reads it with the same checks the site applied
//! ([`kakehashi_biobank::parse_catalogue`]), so a hub never stores an entry that breaks a
//! MIABIS rule. Versioned on its own ([`CATALOGUE_VERSION`]).

use serde::{Deserialize, Serialize};

/// Version of [`CatalogueReport`]; a hub refuses other versions with 409 and a clear message.
pub const CATALOGUE_VERSION: u32 = 1;

/// The largest catalogue file a site sends (bytes); a hub refuses larger ones.
pub const MAX_CATALOGUE_BYTES: usize = 1 << 20;

/// A site's catalogue file (site → hub, site token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueReport {
    /// [`CATALOGUE_VERSION`] of the site.
    pub version: u32,
    /// The file's name (`catalogue.toml` or `catalogue.json`): how to read `text`, and how
    /// errors name it.
    pub file: String,
    /// The file's text.
    pub text: String,
}

impl CatalogueReport {
    /// The SHA-256 of the text (hex): what the site and the hub audit, and how the agent
    /// knows the file changed.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_a_closed_message() {
        let r = CatalogueReport {
            version: CATALOGUE_VERSION,
            file: "catalogue.toml".into(),
            text: "[[biobank]]\n".into(),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<CatalogueReport>(&text).unwrap(), r);
        assert!(
            serde_json::from_str::<CatalogueReport>(
                r#"{"version":1,"file":"c.toml","text":"","patients":[1]}"#
            )
            .is_err()
        );
        assert_eq!(r.sha256().len(), 64);
    }
}
