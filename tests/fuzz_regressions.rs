//! Inputs the fuzzer (`npm run fuzz`, fuzz/main.rs) found to break a Rust
//! parser, kept in tests/fixtures/fuzz-regressions/<target>/ and replayed
//! through the same target functions: none may panic or take over a second.
//! The JavaScript targets' files are replayed by tests/js/fuzz-regressions.test.mjs.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/seeds.rs"]
mod seeds;
mod support;
#[path = "../fuzz/targets.rs"]
mod targets;

use std::time::{Duration, Instant};

#[test]
fn saved_fuzz_failures_neither_panic_nor_stall() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    let targets = targets::targets();
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).map(|d| d.filter_map(|e| e.ok()).collect::<Vec<_>>()).unwrap_or_default() {
        let name = dir.file_name().to_string_lossy().into_owned();
        assert!(targets::NAMES.contains(&name.as_str()), "tests/fixtures/fuzz-regressions/{name}: no such fuzz target");
        // A JavaScript target, or one of a feature this build leaves out.
        let Some(target) = targets.iter().find(|t| t.name == name) else { continue };
        for file in std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()) {
            let input = std::fs::read(file.path()).unwrap();
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| (target.run)(&input));
            let took = started.elapsed();
            assert!(outcome.is_ok(), "{name}/{}: panics", file.file_name().to_string_lossy());
            assert!(took < Duration::from_secs(1), "{name}/{}: took {took:?}", file.file_name().to_string_lossy());
            replayed += 1;
        }
    }
    eprintln!("{replayed} saved fuzz inputs replayed");
}

#[cfg(all(feature = "providers", feature = "openadr"))]
#[test]
fn every_target_is_named() {
    let mut names: Vec<&str> = targets::targets().iter().map(|t| t.name).chain(targets::JS_TARGETS.iter().map(|t| t.0)).collect();
    names.sort_unstable();
    let mut expected = targets::NAMES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

/// Every seed of every target runs clean too, those in fuzz/corpus/ and those
/// made at run time (fuzz/seeds.rs): the corpus stays a valid start.
#[test]
fn the_seed_corpus_runs_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for target in targets::targets() {
        let files = std::fs::read_dir(root.join(target.name)).map(|d| d.filter_map(|e| e.ok()).collect::<Vec<_>>()).unwrap_or_default();
        let mut seeds: Vec<Vec<u8>> = files.iter().map(|file| std::fs::read(file.path()).unwrap()).collect();
        seeds.extend(seeds::generated(target.name));
        assert!(!seeds.is_empty(), "fuzz target {} has no seeds", target.name);
        for input in seeds {
            let _ = (target.run)(&input);
        }
    }
}
