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
    order.sort_unstable();
    let before = items.to_vec();
    for (slot, (_, i)) in items.iter_mut().zip(order) {
        *slot = before[i as usize];
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
    }
}
