//! One sort for the whole module. Every element type given to `sort_by_key`
//! compiles its own stable sort (3-5 KB of wasm each); this sorts
//! `(key, index)` pairs, one instantiation, and moves the items after.

/// Stable sort by an `i64` key.
pub fn sort_by_i64<T: Copy>(items: &mut [T], key: impl Fn(&T) -> i64) {
    let mut order: Vec<(i64, u32)> = items.iter().enumerate().map(|(i, item)| (key(item), i as u32)).collect();
    if order.windows(2).all(|w| w[0].0 <= w[1].0) {
        return;
    }
    // The index makes every pair unique, so an unstable sort keeps equal keys in order.
    heapsort(&mut order);
    let before = items.to_vec();
    for (slot, (_, i)) in items.iter_mut().zip(order) {
        *slot = before[i as usize];
    }
}

/// A heapsort: a few hundred bytes of wasm where `sort_unstable` is ~3 KB.
fn heapsort(v: &mut [(i64, u32)]) {
    fn sift_down(v: &mut [(i64, u32)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child] < v[child + 1] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_by_key() {
        let mut items = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        sort_by_i64(&mut items, |p| p.0);
        assert_eq!(items, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        // Against the standard sort, on shuffled keys with many ties.
        let mut x = 0x2545_f491_u64;
        let mut many: Vec<(i64, u32)> = (0..5000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x % 97) as i64 - 48, i)
            })
            .collect();
        let mut expected = many.clone();
        expected.sort_by_key(|p| p.0);
        sort_by_i64(&mut many, |p| p.0);
        assert_eq!(many, expected);
    }
}
