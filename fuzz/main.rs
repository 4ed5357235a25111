//! The fuzz harness on stable Rust (`npm run fuzz`, see fuzz/README.md).
//!
//! For each target: start from the seeds in fuzz/corpus/<target>/, those made
//! at run time (fuzz/seeds.rs, for the key targets) and the failures saved
//! before; mutate them with a seeded generator (fuzz/mutate.rs), run each input with a timer and a panic catcher, keep
//! inputs that reach a new outcome as further seeds, and stop after
//! `--inputs` inputs (default 1,000,000) or `--seconds`. A panic, or an input
//! that takes over 1 s, is a failure: the input (shrunk when it is a panic) is
//! saved to tests/fixtures/fuzz-regressions/<target>/<hash>, which
//! `cargo test` (Rust targets) and `node --test` (JavaScript targets) replay.
//!
//! The JavaScript targets (CSV and JSON import, config.json) run in a Node
//! child (fuzz/js-targets.mjs) fed through a pipe: the same mutator, counts
//! and failure files for both languages.

#[path = "../tests/support/mod.rs"]
mod support;
mod mutate;
mod seeds;
mod targets;

use mutate::{words_of, Mutator};
use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An input slower than this is a failure.
const SLOW: Duration = Duration::from_secs(1);
/// An input still running after this is a hang: saved, and the run stops.
const HANG: Duration = Duration::from_secs(20);
/// Inputs kept as seeds per target (those reaching a new outcome).
const MAX_CORPUS: usize = 4096;
/// Inputs per round trip to the Node child.
const JS_BATCH: usize = 256;


struct Options {
    targets: Vec<String>,
    inputs: u64,
    seconds: Option<f64>,
    seed: u64,
    root: PathBuf,
}

fn usage() -> ! {
    eprintln!(
        "usage: fuzz [--inputs N] [--seconds S] [--seed N] [--list] [--show TARGET] [TARGET...]\n\
         Runs each target (all when none is named) for N inputs (default 1000000) or S seconds, whichever comes first."
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut options = Options { targets: Vec::new(), inputs: 1_000_000, seconds: None, seed: 1, root: PathBuf::from(env!("CARGO_MANIFEST_DIR")) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--inputs" => options.inputs = value().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--seconds" => options.seconds = Some(value().parse().unwrap_or_else(|_| usage())),
            "--seed" => options.seed = value().parse().unwrap_or_else(|_| usage()),
            "--list" => {
                for target in targets::targets() {
                    println!("{:<18} {}", target.name, target.about);
                }
                for (name, about, _) in targets::JS_TARGETS {
                    println!("{name:<18} {about} (Node)");
                }
                std::process::exit(0)
            }
            "--show" => {
                // What each seed of a target reaches: to check a target gets past the parser.
                let name = value();
                let target = targets::targets().into_iter().find(|t| t.name == name).unwrap_or_else(|| usage());
                let dir = options.root.join("fuzz/corpus").join(&name);
                let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
                paths.sort();
                for path in paths {
                    let input = std::fs::read(&path).unwrap_or_default();
                    println!("{}: {}", path.display(), (target.run)(&input));
                }
                for (n, input) in seeds::generated(&name).iter().enumerate() {
                    println!("generated seed {n}: {}", (target.run)(input));
                }
                std::process::exit(0)
            }
            "-h" | "--help" => usage(),
            name if !name.starts_with('-') => options.targets.push(name.to_owned()),
            _ => usage(),
        }
    }
    options
}

/// What the watchdog needs to save a hanging input.
struct Current {
    target: Mutex<String>,
    input: Mutex<Vec<u8>>,
    /// Nanoseconds since `epoch` when the input started; 0 when idle.
    started: AtomicU64,
    /// The Node child's pid, to stop it with the harness (0 when none).
    child: AtomicU64,
    epoch: Instant,
}

impl Current {
    fn begin(&self, input: &[u8]) {
        self.input.lock().unwrap_or_else(|e| e.into_inner()).clone_from(&input.to_vec());
        self.started.store(self.epoch.elapsed().as_nanos().max(1) as u64, Ordering::SeqCst);
    }
    fn end(&self) {
        self.started.store(0, Ordering::SeqCst);
    }
}

fn watchdog(current: Arc<Current>, save_root: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(250));
        let started = current.started.load(Ordering::SeqCst);
        if started == 0 || current.epoch.elapsed().as_nanos() as u64 - started < HANG.as_nanos() as u64 {
            continue;
        }
        let target = current.target.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let input = current.input.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let path = save(&save_root, &target, &input);
        eprintln!("\nfuzz: {target}: an input has run for over {} s (a hang); saved to {}; stopping", HANG.as_secs(), path.display());
        let pid = current.child.load(Ordering::SeqCst);
        if pid != 0 {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        std::process::exit(3)
    });
}

thread_local! {
    static PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Panics are recorded (message, location) instead of printed.
fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = Some((message, location)));
    }));
}

/// What one input did.
enum Verdict {
    Ok(String),
    Panic { message: String, location: String },
    Failure(String),
}

fn run_rust(run: targets::Run, input: &[u8]) -> Verdict {
    match panic::catch_unwind(AssertUnwindSafe(|| run(input))) {
        Ok(outcome) => Verdict::Ok(outcome),
        Err(_) => {
            let (message, location) = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
            Verdict::Panic { message, location }
        }
    }
}

/// A panic's input, shrunk while it still panics at the same place.
fn minimize(run: targets::Run, input: &[u8], location: &str) -> Vec<u8> {
    let mut best = input.to_vec();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut chunk = best.len() / 2;
    while chunk > 0 && Instant::now() < deadline {
        let mut at = 0;
        while at < best.len() && Instant::now() < deadline {
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[(at + chunk).min(best.len())..]);
            match run_rust(run, &candidate) {
                Verdict::Panic { location: l, .. } if l == location => best = candidate,
                _ => at += chunk,
            }
        }
        chunk /= 2;
    }
    best
}

/// The Node child running the JavaScript targets.
struct Node {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Node {
    fn start(root: &Path, target: &str, current: &Current) -> Node {
        let mut child = Command::new("node")
            .arg(root.join("fuzz/js-targets.mjs"))
            .arg(target)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node: {e}"));
        current.child.store(u64::from(child.id()), Ordering::SeqCst);
        let stdin = BufWriter::new(child.stdin.take().unwrap_or_else(|| unreachable!()));
        let stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| unreachable!()));
        Node { child, stdin, stdout }
    }

    /// Run a batch; one (verdict, time) per input.
    fn run(&mut self, batch: &[Vec<u8>], current: &Current) -> Vec<(Verdict, Duration)> {
        for input in batch {
            self.stdin.write_all(&(input.len() as u32).to_le_bytes()).and_then(|_| self.stdin.write_all(input)).unwrap_or_else(|e| panic!("node stopped: {e}"));
        }
        self.stdin.flush().unwrap_or_else(|e| panic!("node stopped: {e}"));
        batch
            .iter()
            .map(|input| {
                current.begin(input);
                let mut head = [0u8; 9];
                self.stdout.read_exact(&mut head).unwrap_or_else(|e| panic!("node stopped: {e}"));
                let micros = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
                let mut text = vec![0; u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize];
                self.stdout.read_exact(&mut text).unwrap_or_else(|e| panic!("node stopped: {e}"));
                current.end();
                let text = String::from_utf8_lossy(&text).into_owned();
                let verdict = if head[0] == 0 { Verdict::Ok(text) } else { Verdict::Failure(text) };
                (verdict, Duration::from_micros(u64::from(micros)))
            })
            .collect()
    }

    fn stop(mut self, current: &Current) {
        drop(self.stdin);
        let _ = self.child.wait();
        current.child.store(0, Ordering::SeqCst);
    }
}

fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn save(root: &Path, target: &str, input: &[u8]) -> PathBuf {
    let dir = root.join(target);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{:016x}", fnv(input)));
    if let Err(e) = std::fs::write(&path, input) {
        eprintln!("fuzz: cannot save {}: {e}", path.display());
    }
    path
}

/// The shapes of an outcome's parts (a target reports one part per thing it
/// tried, ending each with `targets::END`): its first words, letters only,
/// and nothing quoted, since answers' own words get echoed after them. A new
/// shape means new code was reached, not new data.
fn shapes(outcome: &str) -> impl Iterator<Item = u64> + '_ {
    outcome.split(targets::END).enumerate().map(|(i, part)| {
        let mut quoted = false;
        let kept: Vec<u8> = part
            .split(' ')
            .filter(|word| {
                let opens = word.starts_with(['\'', '"', '`', '(']);
                let closes = word.ends_with(['\'', '"', '`', ')']);
                let keep = !quoted && !opens;
                quoted = (quoted || opens) && !closes;
                keep
            })
            .take(6)
            .flat_map(|w| w.bytes().filter(|b| b.is_ascii_alphabetic() || *b == b'_').take(24).chain([b' ']))
            .collect();
        fnv(&kept) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    })
}

struct Report {
    name: String,
    inputs: u64,
    seconds: f64,
    seeds: usize,
    corpus: usize,
    slowest: Duration,
    failures: Vec<String>,
}

enum Kind {
    Rust(targets::Run),
    Node,
}

fn fuzz(name: &str, kind: &Kind, tokens: &[&[u8]], options: &Options, current: &Arc<Current>) -> Report {
    let save_root = options.root.join("tests/fixtures/fuzz-regressions");
    let mut corpus = read_dir_files(&options.root.join("fuzz/corpus").join(name));
    corpus.extend(seeds::generated(name));
    corpus.extend(read_dir_files(&save_root.join(name)));
    let seeds = corpus.len();
    let mut dictionary: Vec<Vec<u8>> = tokens.iter().map(|t| t.to_vec()).collect();
    dictionary.extend(words_of(&corpus));
    let mut mutator = Mutator::new(options.seed ^ fnv(name.as_bytes()), dictionary);
    *current.target.lock().unwrap_or_else(|e| e.into_inner()) = name.to_owned();

    let mut seen = HashSet::new();
    let mut slowest = Duration::ZERO;
    let mut failures: Vec<String> = Vec::new();
    let mut known_failures = HashSet::new();
    let mut node = matches!(kind, Kind::Node).then(|| Node::start(&options.root, name, current));
    let started = Instant::now();
    let bound = options.seconds.map(Duration::from_secs_f64);
    let mut inputs = 0u64;
    let mut last_note = Instant::now();
    let batch_size = if node.is_some() { JS_BATCH } else { 1 };
    let mut batch: Vec<Vec<u8>> = vec![Vec::new(); batch_size];
    while inputs < options.inputs && bound.map_or(true, |b| started.elapsed() < b) {
        let n = batch_size.min((options.inputs - inputs) as usize);
        for input in &mut batch[..n] {
            mutator.next(&corpus, seeds, input);
        }
        let results: Vec<(Verdict, Duration)> = match (kind, node.as_mut()) {
            (Kind::Rust(run), _) => {
                let input = &batch[0];
                current.begin(input);
                let clock = Instant::now();
                let verdict = run_rust(*run, input);
                let took = clock.elapsed();
                current.end();
                vec![(verdict, took)]
            }
            (Kind::Node, Some(node)) => node.run(&batch[..n], current),
            (Kind::Node, None) => unreachable!(),
        };
        for (input, (verdict, took)) in batch.iter().zip(results) {
            inputs += 1;
            slowest = slowest.max(took);
            let failure = match verdict {
                Verdict::Panic { message, location } => Some((format!("panic at {location}: {message}"), location)),
                Verdict::Failure(text) => {
                    let key = text.lines().next().unwrap_or_default().to_owned();
                    Some((text.replace('\n', ": "), key))
                }
                Verdict::Ok(_) if took > SLOW => Some((format!("took {:.1} s", took.as_secs_f64()), "slow".to_owned())),
                Verdict::Ok(outcome) => {
                    let new = shapes(&outcome).fold(false, |new, shape| seen.insert(shape) | new);
                    if new && corpus.len() < MAX_CORPUS {
                        corpus.push(input.clone());
                    }
                    None
                }
            };
            if let Some((description, key)) = failure {
                if known_failures.insert(key.clone()) {
                    let kept = match kind {
                        Kind::Rust(run) if key != "slow" => minimize(*run, input, &key),
                        _ => input.clone(),
                    };
                    let path = save(&save_root, name, &kept);
                    eprintln!("\nfuzz: {name}: FAILURE {description}\n      input ({} bytes) saved to {}", kept.len(), path.display());
                    failures.push(description);
                }
            }
        }
        // Progress: every 10 s on a terminal, every minute in a log.
        let terminal = std::io::stderr().is_terminal();
        if last_note.elapsed() > Duration::from_secs(if terminal { 10 } else { 60 }) {
            last_note = Instant::now();
            let line = format!("{name}: {inputs} inputs, {:.0}/s, {} seeds", inputs as f64 / started.elapsed().as_secs_f64(), corpus.len());
            if terminal {
                eprint!("\r{line}   ");
            } else {
                eprintln!("{line}");
            }
        }
    }
    if let Some(node) = node {
        node.stop(current);
    }
    let seconds = started.elapsed().as_secs_f64();
    if std::io::stderr().is_terminal() {
        eprint!("\r{:60}\r", "");
    }
    println!(
        "{name:<18} {inputs:>9} inputs {seconds:>7.1} s {:>9.0}/s  slowest {:.1} ms  seeds {seeds} -> {}  failures {}",
        inputs as f64 / seconds,
        slowest.as_secs_f64() * 1000.0,
        corpus.len(),
        failures.len()
    );
    Report { name: name.to_owned(), inputs, seconds, seeds, corpus: corpus.len(), slowest, failures }
}

fn main() {
    let options = options();
    quiet_panics();
    let current = Arc::new(Current {
        target: Mutex::new(String::new()),
        input: Mutex::new(Vec::new()),
        started: AtomicU64::new(0),
        child: AtomicU64::new(0),
        epoch: Instant::now(),
    });
    watchdog(current.clone(), options.root.join("tests/fixtures/fuzz-regressions"));

    let mut plan: Vec<(&str, Kind, &[&[u8]])> = targets::targets().into_iter().map(|t| (t.name, Kind::Rust(t.run), t.tokens)).collect();
    plan.extend(targets::JS_TARGETS.iter().map(|(name, _, tokens)| (*name, Kind::Node, *tokens)));
    for name in &options.targets {
        if !plan.iter().any(|(n, _, _)| n == name) {
            eprintln!("fuzz: no target {name} (see --list)");
            std::process::exit(2);
        }
    }
    let bound = match options.seconds {
        Some(s) => format!(" or {s} s"),
        None => String::new(),
    };
    println!("fuzz: {} inputs per target{bound}, seed {}", options.inputs, options.seed);
    let reports: Vec<Report> = plan
        .iter()
        .filter(|(name, _, _)| options.targets.is_empty() || options.targets.iter().any(|t| t == name))
        .map(|(name, kind, tokens)| fuzz(name, kind, tokens, &options, &current))
        .collect();

    println!("\n| target | inputs | seconds | inputs/s | slowest input | seeds → corpus | failures |\n|---|---:|---:|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.1} ms | {} → {} | {} |",
            r.name,
            r.inputs,
            r.seconds,
            r.inputs as f64 / r.seconds,
            r.slowest.as_secs_f64() * 1000.0,
            r.seeds,
            r.corpus,
            r.failures.len()
        );
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.failures.is_empty()).collect();
    if !failed.is_empty() {
        println!("\nFAILURES (inputs saved under tests/fixtures/fuzz-regressions/):");
        for r in failed {
            for f in &r.failures {
                println!("  {}: {f}", r.name);
            }
        }
        std::process::exit(1);
    }
}
