//! The site agent: it pulls tasks from the hub (outbound only), answers them over the local store, passes every
//! result through the disclosure gate and sends it signed. Its steward console ([`console`]) shows
//! the site's data steward what came in and what left, and holds tasks for approval ([`steward`]).

pub mod admission;
pub mod agent;
pub mod console;
pub mod enrolment;
pub mod key;
pub mod ledger;
pub mod prefill;
pub mod steward;
pub mod tasks;
