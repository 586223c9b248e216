//! `map_in_order`: the loaders' one way to use every core. Loading case files and recordings,
//! checking recordings against their model and building the replay index all do independent
//! work per item and must keep the items' order.

/// `f` applied to every item, the items split into one contiguous part per core, each part on
/// a thread of its own; the results in the items' order. A panic in `f` is re-raised.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(per_thread)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_of_any_number_of_items() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let items: Vec<usize> = (0..n).collect();
            assert_eq!(
                super::map_in_order(&items, |i| i * 2),
                items.iter().map(|i| i * 2).collect::<Vec<_>>()
            );
        }
    }
}
