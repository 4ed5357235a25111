//! The architecture, checked: every provider folder follows one template, no
//! provider reaches into another provider or the bridge, and no module imports
//! one that imports it back.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The providers: each is `api.rs` (pure request builders and answer
/// readers), `model.rs`, `client.rs` (the flows over the seams), plus extras.
const PROVIDERS: [&str; 7] = ["energyid", "homeassistant", "jeedom", "linky", "oauth", "openadr", "weheat"];
/// Modules a provider may never name: the others, the bridge that uses them, the JS edge.
const OFF_LIMITS: [&str; 9] = ["energyid", "homeassistant", "jeedom", "linky", "weheat", "openadr", "bridge", "wasm", "sync"];

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push((path.display().to_string(), fs::read_to_string(&path).unwrap()));
        }
    }
    files
}

/// `crate::name` followed by `::`, `;` or `}` (not `crate::linkyish`).
fn names(text: &str, module: &str) -> bool {
    let needle = format!("crate::{module}");
    text.match_indices(&needle).any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[test]
fn every_provider_folder_has_api_model_and_client() {
    for provider in PROVIDERS {
        for file in ["mod.rs", "api.rs", "model.rs", "client.rs"] {
            assert!(Path::new("src").join(provider).join(file).is_file(), "src/{provider}/{file} is missing");
        }
    }
}

#[test]
fn no_provider_names_another_provider_or_the_bridge() {
    let mut offences = Vec::new();
    for provider in PROVIDERS {
        for (path, text) in sources(&Path::new("src").join(provider)) {
            for other in OFF_LIMITS.iter().filter(|o| **o != provider) {
                if names(&text, other) {
                    offences.push(format!("{path} names crate::{other}"));
                }
            }
            // OAuth is shared by the providers through its public surface only.
            for internal in ["oauth::api", "oauth::model", "oauth::client"] {
                if provider != "oauth" && names(&text, internal) {
                    offences.push(format!("{path} reaches into crate::{internal}"));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

/// Sibling modules a file names: `super::x`, `super::{x, y::Z}`, `crate::<provider>::x`.
fn imported(text: &str, provider: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let word = |rest: &str| rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("").to_owned();
    for prefix in ["super::".to_owned(), format!("crate::{provider}::")] {
        for (at, _) in text.match_indices(prefix.as_str()) {
            let rest = &text[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // The first word of each top-level item of the group.
                let (mut depth, mut item_start) = (0, true);
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && !c.is_whitespace() => {
                            found.insert(word(&group[i..]));
                            item_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                found.insert(word(rest));
            }
        }
    }
    found
}

#[test]
fn the_check_itself_sees_an_import() {
    assert_eq!(imported("use super::{api::{self, Relay}, model};\nuse super::history::History;", "linky"), ["api", "history", "model"].map(String::from).into());
    assert!(names("use crate::linky::time::Date;", "linky"));
    assert!(names("use crate::linky;", "linky"));
    assert!(!names("use crate::linkyish::X;", "linky"));
    assert!(!names("use crate::core::time::Date;", "linky"));
}

#[test]
fn modules_inside_a_provider_do_not_import_each_other_in_a_cycle() {
    for provider in PROVIDERS.into_iter().chain(["bridge", "core"]) {
        let dir = Path::new("src").join(provider);
        let modules: BTreeSet<String> = sources(&dir)
            .iter()
            .filter_map(|(path, _)| Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|m| m != "mod")
            .collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, text) in sources(&dir) {
            let from = Path::new(path.as_str()).file_stem().unwrap().to_string_lossy().into_owned();
            // Test modules may use anything.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for to in imported(text, provider) {
                if modules.contains(&to) && to != from {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
        // Depth-first search for a path back to the start.
        for start in edges.keys() {
            let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
            while let Some((at, path)) = stack.pop() {
                for next in edges.get(&at).into_iter().flatten() {
                    assert!(next != start, "import cycle in src/{provider}: {} -> {next}", path.join(" -> "));
                    if !path.contains(next) {
                        stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
                    }
                }
            }
        }
    }
}
