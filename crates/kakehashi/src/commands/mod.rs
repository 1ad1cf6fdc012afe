//! One module per subcommand: its clap arguments and its `run`.

pub mod amr;
pub mod audit;
pub mod cohort;
pub mod demo;
pub mod hub;
pub mod ingest;
pub mod query;
pub mod site;
pub mod sof;
pub mod sql;
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
