//! `map_in_order`: the loaders' one way to use every core. Loading case files and recordings,
//! checking recordings against their model and building the replay index all do independent
//! work per item and must keep the items' order. `half_the_cores`: how many workers a runtime
//! gets that should leave the rest of the machine to the endpoint it talks to.

/// One tokio worker per two cores (at least one), or `None` when `TOKIO_WORKER_THREADS` is set
/// (tokio then reads it itself). For the CLI's runtime and the proxy's: the endpoint judged or
/// proxied usually shares the machine, and on 2 cores a second worker only passed work between
/// threads (bench/issue11.sh figure 3, bench/proxy.py).
pub fn half_the_cores() -> Option<usize> {
    if std::env::var_os("TOKIO_WORKER_THREADS").is_some() {
        return None;
    }
    Some((cores() / 2).max(1))
}

/// The cores this process may use, asked of the system once (`available_parallelism` reads the
/// affinity mask and cgroup files at every call).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` applied to every item, the items split into one contiguous part per core, each part but
/// the last on a thread of its own (the last on the caller's); the results in the items' order.
/// A panic in `f` is re-raised.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = cores();
    let per_thread = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(per_thread);
        // The last part runs on the calling thread, which would only wait otherwise.
        let last = chunks.next_back().unwrap_or_default();
        let parts: Vec<_> = chunks
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        let mine: Vec<R> = last.iter().map(f).collect();
        let mut all = Vec::with_capacity(items.len());
        for part in parts {
            all.extend(
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        all.extend(mine);
        all
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
