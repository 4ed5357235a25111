//! Seeded mutation of corpus entries: byte-level changes (flips, inserts,
//! deletes, splices between entries) and text-aware ones for the JSON, XML,
//! CSV and DER the targets read (numbers and strings swapped for awkward
//! ones, dictionary words, deep nesting, long repeats). Deterministic for a
//! seed, so a run can be repeated.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Inputs never grow past this: big enough for deep nesting and long
/// repeats, small enough that a slow parser shows as slow, not as big.
pub const MAX_LEN: usize = 64 * 1024;

const INTERESTING_BYTES: &[u8] = b"\0\x01\x7f\x80\xff\"'<>/{}[],:;=\\-+.0129eE \t\r\n&#?!%TZ";

const NUMBERS: &[&str] = &[
    "0", "-0", "1", "-1", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483649", "4294967296",
    "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "99999999999999999999999999", "1e308", "1e309", "-1e309", "1e-400", "1.5", "-0.0",
    "0.1e1", "1E+2", "NaN", "Infinity", "0x10", "1_000", "١٢", "",
];

const STRINGS: &[&str] = &[
    "", " ", "\\u0000", "\\ud800", "\\udfff\\ud800", "\\\"", "\\\\", "é", "\u{202e}", "\u{feff}", "💡", "\t\r\n",
    "\x1b[2J", "javascript:alert(1)", "http://evil.example\\@127.0.0.1/", "%00", "&amp;", "&#0;", "]]>", "null",
    "true", "-", "P15400000000W", "PT", "PT9999999999999H", "2023-02-29", "2023-03-26 02:30:00", "9999-12-31T23:59:59Z",
    "0000-01-01", "24:00", "Mon, 32 Dec 9999 25:61:61 GMT",
];

/// JSON values of every type, to put where another one was.
const VALUES: &[&str] = &[
    "null", "true", "0", "-1", "1e400", "\"\"", "\"x\"", "[]", "{}", "[null]", "[1]", "{\"\":null}", "{\"toString\":1,\"valueOf\":1}",
    "{\"__proto__\":{\"x\":1}}", "[[]]", "\"1731974400\"", "1731974400",
];

/// Openers that nest: repeated many times they probe recursion limits.
const NESTERS: &[&[u8]] = &[b"[", b"{\"a\":", b"<a>", b"<a:b xmlns:a=\"u\">", b"\"", b"0\x30\x82", b"0\x80", b"{\"data\":["];

pub struct Mutator {
    rng: SmallRng,
    /// Words worth inserting: the target's own tokens plus words of its seeds.
    dictionary: Vec<Vec<u8>>,
}

impl Mutator {
    pub fn new(seed: u64, dictionary: Vec<Vec<u8>>) -> Mutator {
        Mutator { rng: SmallRng::seed_from_u64(seed), dictionary }
    }

    /// A new input in `out`: one corpus entry with 1 to 8 stacked mutations.
    /// The first `seeds` entries are the seeds, picked a quarter of the time
    /// (they are well-formed: mutations of them get furthest).
    pub fn next(&mut self, corpus: &[Vec<u8>], seeds: usize, out: &mut Vec<u8>) {
        out.clear();
        if seeds > 0 && self.rng.gen_bool(0.25) {
            out.extend_from_slice(&corpus[self.rng.gen_range(0..seeds.min(corpus.len()))]);
        } else if !corpus.is_empty() {
            // The shorter of two entries: small inputs run faster and shrink
            // what a failure saves; big ones still come, from growth mutations.
            let (a, b) = (&corpus[self.rng.gen_range(0..corpus.len())], &corpus[self.rng.gen_range(0..corpus.len())]);
            out.extend_from_slice(if a.len() <= b.len() { a } else { b });
        }
        let rounds = 1 << self.rng.gen_range(0..4);
        for _ in 0..self.rng.gen_range(1..=rounds) {
            self.mutate(corpus, out);
            out.truncate(MAX_LEN);
        }
    }

    fn pos(&mut self, data: &[u8]) -> usize {
        self.rng.gen_range(0..=data.len())
    }

    /// A range `[a, b)` of `data`, mostly short.
    fn range(&mut self, data: &[u8]) -> (usize, usize) {
        let a = self.pos(data);
        let most = (data.len() - a).min(if self.rng.gen_bool(0.8) { 16 } else { usize::MAX });
        (a, a + self.rng.gen_range(0..=most))
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }

    fn mutate(&mut self, corpus: &[Vec<u8>], data: &mut Vec<u8>) {
        match self.rng.gen_range(0..18) {
            0 if !data.is_empty() => {
                let i = self.rng.gen_range(0..data.len());
                data[i] ^= 1 << self.rng.gen_range(0..8);
            }
            1 if !data.is_empty() => {
                let i = self.rng.gen_range(0..data.len());
                data[i] = *self.pick(INTERESTING_BYTES);
            }
            2 => {
                let at = self.pos(data);
                let n = self.rng.gen_range(1..=8);
                let bytes: Vec<u8> = (0..n).map(|_| if self.rng.gen_bool(0.5) { self.rng.gen() } else { *self.pick(INTERESTING_BYTES) }).collect();
                data.splice(at..at, bytes);
            }
            3 => {
                let (a, b) = self.range(data);
                data.drain(a..b);
            }
            4 => {
                // Copy a chunk elsewhere in the same input.
                let (a, b) = self.range(data);
                let chunk = data[a..b].to_vec();
                let at = self.pos(data);
                data.splice(at..at, chunk);
            }
            5 if !corpus.is_empty() => {
                // Splice: a piece of another entry, inserted or replacing our tail.
                let other = &corpus[self.rng.gen_range(0..corpus.len())];
                let (a, b) = self.range(other);
                let piece = other[a..b].to_vec();
                let at = self.pos(data);
                if self.rng.gen_bool(0.5) {
                    data.truncate(at);
                    data.extend_from_slice(&other[a..]);
                } else {
                    data.splice(at..at, piece);
                }
            }
            6 | 7 if !self.dictionary.is_empty() => {
                let word = self.dictionary[self.rng.gen_range(0..self.dictionary.len())].clone();
                if self.rng.gen_bool(0.5) {
                    let at = self.pos(data);
                    data.splice(at..at, word);
                } else {
                    let (a, b) = self.range(data);
                    data.splice(a..b, word);
                }
            }
            8 => self.replace_number(data),
            9 => self.replace_string(data),
            10 => {
                // Deep nesting: an opener repeated hundreds or thousands of times.
                let opener = *self.pick(NESTERS);
                let depth = 1 << self.rng.gen_range(4..14);
                let at = self.pos(data);
                let nest: Vec<u8> = opener.iter().copied().cycle().take(opener.len() * depth).collect();
                data.splice(at..at, nest);
            }
            11 => {
                // A chunk repeated: long lists, long strings.
                let (a, b) = self.range(data);
                if b > a {
                    let times = (1usize << self.rng.gen_range(1..12)).min(MAX_LEN / (b - a));
                    let chunk = data[a..b].repeat(times);
                    data.splice(b..b, chunk);
                }
            }
            12 => {
                let at = self.pos(data);
                data.truncate(at);
            }
            13 if !data.is_empty() => {
                // Swap two chunks' bytes: reorders fields, elements, rows.
                let (a, b) = self.range(data);
                let (c, d) = self.range(data);
                if b <= c || d <= a {
                    let (first, second) = if b <= c { ((a, b), (c, d)) } else { ((c, d), (a, b)) };
                    let mut swapped = data[..first.0].to_vec();
                    swapped.extend_from_slice(&data[second.0..second.1]);
                    swapped.extend_from_slice(&data[first.1..second.0]);
                    swapped.extend_from_slice(&data[first.0..first.1]);
                    swapped.extend_from_slice(&data[second.1..]);
                    *data = swapped;
                }
            }
            14 | 15 => self.replace_value(data),
            16 => self.replace_balanced(data),
            _ => {
                // Arithmetic on a byte: lengths and tags in DER, digits in text.
                if !data.is_empty() {
                    let i = self.rng.gen_range(0..data.len());
                    data[i] = data[i].wrapping_add(self.rng.gen_range(1..=35)).wrapping_sub(18);
                }
            }
        }
    }

    /// The run of digits (with sign, point, exponent) around a random place, replaced.
    fn replace_number(&mut self, data: &mut Vec<u8>) {
        let start = self.pos(data);
        let Some(offset) = data[start..].iter().position(u8::is_ascii_digit) else { return };
        let mut a = start + offset;
        while a > 0 && matches!(data[a - 1], b'0'..=b'9' | b'-' | b'.') {
            a -= 1;
        }
        let mut b = a;
        while b < data.len() && matches!(data[b], b'0'..=b'9' | b'-' | b'.' | b'e' | b'E' | b'+') {
            b += 1;
        }
        let number = self.pick(NUMBERS).as_bytes().to_vec();
        data.splice(a..b, number);
    }

    /// The JSON value after a `:` or `[` or `,` replaced by one of another type.
    fn replace_value(&mut self, data: &mut Vec<u8>) {
        let start = self.pos(data);
        let Some(offset) = data[start..].iter().position(|b| matches!(b, b':' | b'[' | b',')) else { return };
        let a = start + offset + 1;
        let b = match data.get(a) {
            Some(b'{' | b'[') => balanced_end(data, a),
            _ => data[a..].iter().position(|c| matches!(c, b',' | b'}' | b']')).map_or(data.len(), |n| a + n),
        };
        let value = self.pick(VALUES).as_bytes().to_vec();
        data.splice(a..b, value);
    }

    /// A whole `{…}`, `[…]` or `<…>…</…>`-free bracketed span replaced by another
    /// span of the input (moves objects around, nests them in each other).
    fn replace_balanced(&mut self, data: &mut Vec<u8>) {
        let mut spans = Vec::new();
        for _ in 0..2 {
            let start = self.pos(data);
            let Some(offset) = data[start..].iter().position(|b| matches!(b, b'{' | b'[')) else { return };
            let a = start + offset;
            spans.push((a, balanced_end(data, a)));
        }
        let (to, from) = (spans[0], spans[1]);
        let piece = data[from.0..from.1].to_vec();
        data.splice(to.0..to.1, piece);
    }

    /// The text between a pair of quotes or between `>` and `<`, replaced.
    fn replace_string(&mut self, data: &mut Vec<u8>) {
        let start = self.pos(data);
        let Some(offset) = data[start..].iter().position(|b| matches!(b, b'"' | b'>' | b',')) else { return };
        let a = start + offset + 1;
        let close = match data[a - 1] {
            b'"' => b'"',
            b'>' => b'<',
            _ => b',',
        };
        let b = data[a..].iter().position(|c| *c == close || *c == b'\n').map_or(data.len(), |n| a + n);
        let text = self.pick(STRINGS).as_bytes().to_vec();
        data.splice(a..b, text);
    }
}

/// Where the bracket at `open` closes (end of input when it does not),
/// counting brackets outside JSON strings.
fn balanced_end(data: &[u8], open: usize) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in data.iter().enumerate().skip(open) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    data.len()
}

/// Words of the seeds (letters, digits and `_-:.`), to reuse as dictionary entries.
pub fn words_of(corpus: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = corpus
        .iter()
        .flat_map(|entry| entry.split(|b| !(b.is_ascii_alphanumeric() || b"_-:.".contains(b))))
        .filter(|w| (2..=40).contains(&w.len()))
        .map(<[u8]>::to_vec)
        .collect();
    words.sort();
    words.dedup();
    words
}
