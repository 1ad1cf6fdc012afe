//! The site: the ingest pipeline that loads FHIR into the site's store, and the agent that
//! pulls tasks from the hub (outbound only), answers them over the local store, passes every
//! result through the disclosure gate and sends it signed.

pub mod agent;
pub mod ingest;
pub mod tasks;
