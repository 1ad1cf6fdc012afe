//! One module per subcommand: its clap arguments and its `run`.

pub mod amr;
pub mod audit;
pub mod catalogue;
pub mod cohort;
pub mod demo;
mod demo_office;
mod demo_studies;
mod demo_subjects;
pub mod hub;
pub mod ingest;
pub mod office;
pub mod query;
pub mod request;
pub mod samples;
pub mod site;
pub mod sof;
pub mod sql;
pub mod stats;
pub mod study;
pub mod study_hub;
pub mod surveillance;
pub mod synth;

/// Resolves on Ctrl-C or SIGTERM, for the long-running commands.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Loads the AMR reference tables at the start of a long-running command, so a missing or
/// broken data folder is reported when the service starts, not at the first antibiogram. The
/// service runs on without them: antibiogram questions are then refused with the same message.
pub fn check_reference_data() {
    match kakehashi_amr::Reference::shared() {
        Ok(r) => tracing::info!(
            "AMR reference tables from {}{}",
            r.dir().display(),
            if r.has_clsi() {
                ""
            } else {
                " (no CLSI breakpoints)"
            }
        ),
        Err(e) => eprintln!("warning: antibiogram questions will be refused: {e}"),
    }
}
