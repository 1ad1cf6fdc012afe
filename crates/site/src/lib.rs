//! The site agent: it pulls tasks from the hub (outbound only), answers them over the local store, passes every
//! result through the disclosure gate and sends it signed.

pub mod agent;
pub mod key;
pub mod tasks;
