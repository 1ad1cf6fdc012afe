//! The crate layering, read from `cargo metadata` against the tables in the root `Cargo.toml`:
//! `[workspace.metadata.layers]` (a crate depends only on crates of a lower layer) and
//! `[workspace.metadata.pure]` (the pure crates reach no database, network or async runtime
//! crate, not even through another crate). Only normal dependencies count: tests and build
//! scripts may use what they like.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

/// The workspace's resolved dependency graph: package id → (name, normal dependencies).
struct Graph {
    /// Package id → package name.
    names: BTreeMap<String, String>,
    /// Package id → ids of its normal (not dev, not build) dependencies.
    deps: BTreeMap<String, Vec<String>>,
    /// Workspace member name → package id.
    members: BTreeMap<String, String>,
    /// `[workspace.metadata]`.
    metadata: Value,
}

/// The host's target triple (`rustc -vV`): the graph is read for this platform only, so that
/// `cargo metadata` needs no package that was never downloaded (another platform's).
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn metadata() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--filter-platform"])
        .arg(host())
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names: BTreeMap<String, String> = v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let members = v["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .map(|id| {
            let id = id.as_str().unwrap().to_owned();
            (names[&id].clone(), id)
        })
        .collect();
    let mut deps = BTreeMap::new();
    for node in v["resolve"]["nodes"].as_array().expect("resolve.nodes") {
        let normal = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap().to_owned())
            .collect();
        deps.insert(node["id"].as_str().unwrap().to_owned(), normal);
    }
    Graph {
        names,
        deps,
        members,
        metadata: v["metadata"].clone(),
    }
}

impl Graph {
    /// The shortest chain of normal dependencies from `from` to a package named in `wanted`,
    /// as package names, for every such package reachable.
    fn paths_to(&self, from: &str, wanted: &BTreeSet<&str>) -> Vec<Vec<String>> {
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        let mut found = Vec::new();
        while let Some(id) = queue.pop_front() {
            if id != from && wanted.contains(self.names[id].as_str()) {
                let mut path = vec![self.names[id].clone()];
                let mut at = id;
                while let Some(p) = parent.get(at) {
                    path.push(self.names[*p].clone());
                    at = p;
                }
                path.reverse();
                found.push(path);
            }
            for d in &self.deps[id] {
                if seen.insert(d) {
                    parent.insert(d, id);
                    queue.push_back(d);
                }
            }
        }
        found
    }
}

#[test]
fn pure_crates_reach_no_io_database_network_or_runtime_crate() {
    let g = metadata();
    let pure = &g.metadata["pure"];
    let crates: Vec<&str> = pure["crates"]
        .as_array()
        .expect("[workspace.metadata.pure] crates")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let forbidden: BTreeSet<&str> = pure["forbidden"]
        .as_array()
        .expect("[workspace.metadata.pure] forbidden")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut problems = Vec::new();
    for c in &crates {
        let id = g
            .members
            .get(*c)
            .unwrap_or_else(|| panic!("pure crate {c} is not a workspace member"));
        for path in g.paths_to(id, &forbidden) {
            problems.push(format!(
                "pure crate {c} depends on {} through {}",
                path.last().unwrap(),
                path.join(" -> ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_crate_depends_only_on_crates_of_a_lower_layer() {
    let g = metadata();
    let layers: BTreeMap<String, u64> = g.metadata["layers"]
        .as_object()
        .expect("[workspace.metadata.layers]")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("a layer is a number")))
        .collect();
    let mut problems = Vec::new();
    for name in g.members.keys() {
        if !layers.contains_key(name) {
            problems.push(format!(
                "{name} has no layer in [workspace.metadata.layers]"
            ));
        }
    }
    for name in layers.keys() {
        if !g.members.contains_key(name) {
            problems.push(format!(
                "[workspace.metadata.layers] names {name}, which is not a workspace member"
            ));
        }
    }
    for (name, id) in &g.members {
        let Some(&layer) = layers.get(name) else {
            continue;
        };
        for d in &g.deps[id] {
            let dep = &g.names[d];
            if let Some(&dl) = layers.get(dep)
                && dl >= layer
            {
                problems.push(format!(
                    "{name} (layer {layer}) depends on {dep} (layer {dl}): a crate may depend only on lower layers"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
