//! Where the reference tables live, and loading them once per process.
//!
//! The organism, antimicrobial, breakpoint and intrinsic-resistance tables are derived from the
//! AMR R package, which is GPL-2. They are therefore not compiled into the (Apache-2.0) binary
//! but read at run time from a data folder that carries its own licence (`data/amr/` in the
//! source tree: `COPYING`, `SOURCES.md`). This module is the crate's only file I/O.
//!
//! The folder is found by one rule, first match wins:
//!
//! 1. a folder set by the application ([`set_data_dir`]; `kakehashi --reference-data DIR`),
//! 2. the environment variable [`ENV_VAR`] (`KAKEHASHI_DATA_DIR`),
//! 3. `<folder of the executable>/../share/kakehashi` (an installed binary),
//! 4. the source tree's `data/` (a development build: `cargo run`, `cargo test`).
//!
//! Each names a *data directory*; the AMR tables are in its `amr/` folder. A folder set by 1 or
//! 2 is used even if it is incomplete (the error then names the missing file), so a
//! misconfiguration is never papered over by another copy. 3 and 4 are used only if their
//! `amr/` folder exists.

use crate::reference::Reference;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The environment variable naming the data directory.
pub const ENV_VAR: &str = "KAKEHASHI_DATA_DIR";

/// The data directory's sub-folder that holds the AMR tables.
pub const AMR_FOLDER: &str = "amr";

/// The source tree's data directory, for development builds (a path, never embedded data).
const SOURCE_TREE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

static CONFIGURED: OnceLock<PathBuf> = OnceLock::new();

/// Sets the data directory for this process (rule 1), e.g. from a command-line flag. Call it
/// before the first [`Reference::shared`]; a second call is ignored.
pub fn set_data_dir(dir: impl Into<PathBuf>) {
    let _ = CONFIGURED.set(dir.into());
}

/// The data directory set with [`set_data_dir`], if any.
pub fn configured_data_dir() -> Option<&'static Path> {
    CONFIGURED.get().map(PathBuf::as_path)
}

/// Which rule found the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Set by the application (`--reference-data`).
    Configured,
    /// Set by `KAKEHASHI_DATA_DIR`.
    Environment,
    /// Installed beside the executable.
    Installed,
    /// The source tree (development build).
    SourceTree,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Configured => "set by --reference-data",
            Origin::Environment => "set by KAKEHASHI_DATA_DIR",
            Origin::Installed => "installed beside the executable",
            Origin::SourceTree => "the source tree of this development build",
        })
    }
}

/// The folder holding the AMR tables, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The `amr/` folder.
    pub dir: PathBuf,
    /// The rule that chose it.
    pub origin: Origin,
}

/// The reference tables could not be found, read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// No data directory was configured and none was found.
    #[error(
        "the AMR reference tables were not found (looked in {tried}); install the data folder `data/amr` of the source \
         tree as <prefix>/share/kakehashi/amr beside <prefix>/bin/kakehashi, or set KAKEHASHI_DATA_DIR \
         (or --reference-data) to a folder that holds amr/"
    )]
    NotFound {
        /// The folders tried, in order.
        tried: String,
    },
    /// A table could not be read.
    #[error("{}: cannot read: {error} (the AMR reference data folder, {origin})", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// How its folder was chosen.
        origin: Origin,
        /// Why (kept in the message, not as a separate cause, so it is never lost or repeated).
        error: std::io::Error,
    },
    /// A table is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line (1-based; the header is line 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The MDRO definitions do not fit the tables.
    #[error("MDRO definitions (mdro.toml): {0}")]
    Definitions(String),
}

/// Finds the AMR table folder by the rule of this module.
pub fn locate() -> Result<Located, ReferenceError> {
    let env = std::env::var_os(ENV_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("../share/kakehashi")));
    locate_in(
        configured_data_dir(),
        env.as_deref(),
        exe.as_deref(),
        Path::new(SOURCE_TREE),
    )
}

fn locate_in(
    configured: Option<&Path>,
    env: Option<&Path>,
    installed: Option<&Path>,
    source: &Path,
) -> Result<Located, ReferenceError> {
    if let Some(d) = configured {
        return Ok(Located {
            dir: d.join(AMR_FOLDER),
            origin: Origin::Configured,
        });
    }
    if let Some(d) = env {
        return Ok(Located {
            dir: d.join(AMR_FOLDER),
            origin: Origin::Environment,
        });
    }
    let mut tried = Vec::new();
    for (d, origin) in installed
        .map(|d| (d, Origin::Installed))
        .into_iter()
        .chain([(source, Origin::SourceTree)])
    {
        let dir = d.join(AMR_FOLDER);
        if dir.is_dir() {
            return Ok(Located { dir, origin });
        }
        tried.push(dir.display().to_string());
    }
    Err(ReferenceError::NotFound {
        tried: tried.join(", "),
    })
}

/// Reads one table; `Ok(None)` if it is optional and absent.
pub(crate) fn read_table(
    at: &Located,
    name: &str,
    optional: bool,
) -> Result<Option<(PathBuf, String)>, ReferenceError> {
    let path = at.dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((path, text))),
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ReferenceError::Read {
            path,
            origin: at.origin,
            error,
        }),
    }
}

/// Loaded references by folder: each is parsed once and kept for the life of the process.
static LOADED: Mutex<Vec<(PathBuf, &'static Reference)>> = Mutex::new(Vec::new());

impl Reference {
    /// The reference tables of the folder the rule of [`crate::data`] finds, loaded on first
    /// use and shared for the rest of the process (one copy per folder).
    pub fn shared() -> Result<&'static Reference, ReferenceError> {
        Reference::shared_from(&locate()?)
    }

    /// The reference tables of one folder, loaded once per process.
    pub fn shared_from(at: &Located) -> Result<&'static Reference, ReferenceError> {
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, r)) = loaded.iter().find(|(d, _)| *d == at.dir) {
            return Ok(r);
        }
        // a failed load is not kept: the next call reads the folder again
        let r: &'static Reference = Box::leak(Box::new(Reference::load(at)?));
        loaded.push((at.dir.clone(), r));
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_then_environment_then_installed_then_source_tree() {
        let tmp = std::env::temp_dir().join(format!("kh-amr-locate-{}", std::process::id()));
        let (inst, src) = (tmp.join("share"), tmp.join("src"));
        std::fs::create_dir_all(src.join("amr")).unwrap();
        let (c, e) = (Path::new("/c"), Path::new("/e"));
        let at = |c, e| locate_in(c, e, Some(&inst), &src).map(|l| (l.dir, l.origin));
        assert_eq!(
            at(Some(c), Some(e)).unwrap(),
            (c.join("amr"), Origin::Configured)
        );
        assert_eq!(
            at(None, Some(e)).unwrap(),
            (e.join("amr"), Origin::Environment)
        );
        assert_eq!(
            at(None, None).unwrap(),
            (src.join("amr"), Origin::SourceTree)
        );
        std::fs::create_dir_all(inst.join("amr")).unwrap();
        assert_eq!(
            at(None, None).unwrap(),
            (inst.join("amr"), Origin::Installed)
        );
        std::fs::remove_dir_all(&tmp).unwrap();
        let e = at(None, None).unwrap_err().to_string();
        assert!(
            e.contains(&inst.join("amr").display().to_string())
                && e.contains(&src.join("amr").display().to_string()),
            "{e}"
        );
    }
}
