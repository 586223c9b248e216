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

/// `f` applied to every item on every core, the results in the items' order. The items are
/// taken in blocks of a few, each worker taking the next block when it is done with one: files
/// differ in size and a core can be slowed by the rest of the machine, and with one contiguous
/// part per core the first to finish waited for the others (a cold replay start split its
/// YAML 54 / 46). One worker is the calling thread, which would only wait otherwise.
/// A panic in `f` is re-raised.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = cores().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    // Eight blocks per worker: enough to even out, few enough that taking one costs nothing.
    let block = items.len().div_ceil(threads * 8);
    let blocks: Vec<&[T]> = items.chunks(block).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = blocks.get(i) else {
                return done;
            };
            done.push((i, part.iter().map(&f).collect()));
        }
    };
    let mut by_block: Vec<Option<Vec<R>>> =
        std::iter::repeat_with(|| None).take(blocks.len()).collect();
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut file = |done: Vec<(usize, Vec<R>)>| {
            for (i, results) in done {
                by_block[i] = Some(results);
            }
        };
        file(work());
        for other in others {
            file(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
    });
    let mut all = Vec::with_capacity(items.len());
    for results in by_block {
        all.extend(results.expect("every block is taken by one worker"));
    }
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_of_any_number_of_items() {
        for n in [0, 1, 2, 3, 15, 16, 17, 1000] {
            let items: Vec<usize> = (0..n).collect();
            assert_eq!(
                super::map_in_order(&items, |i| i * 2),
                items.iter().map(|i| i * 2).collect::<Vec<_>>()
            );
        }
    }
}
