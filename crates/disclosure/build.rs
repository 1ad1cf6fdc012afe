//! Records `git describe` of the source tree for `key::software_version`, when git and a
//! repository are there; a build without either (a source tarball, no git installed) still
//! succeeds and uses the crate version alone. `KAKEHASHI_GIT_DESCRIBE` set in the build's
//! environment is used as it is.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=KAKEHASHI_GIT_DESCRIBE");
    if std::env::var("KAKEHASHI_GIT_DESCRIBE").is_ok_and(|v| !v.is_empty()) {
        return; // the compiler sees the variable from the environment
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let Some(describe) = git(&["describe", "--tags", "--always"]) else {
        return;
    };
    println!("cargo:rustc-env=KAKEHASHI_GIT_DESCRIBE={describe}");
    // describe again when HEAD moves: HEAD itself, the branch it names, and packed refs
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(r);
    }
    for w in watch {
        if let Some(p) = git(&["rev-parse", "--git-path", &w]) {
            let p = Path::new(&dir).join(p);
            // a path that does not exist would make cargo run this script on every build
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}
