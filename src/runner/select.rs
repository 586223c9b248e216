//! Choosing which cases run: name filter, tags, and deterministic sharding.

use crate::case::Case;

#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Substrings; a case runs when its name contains any of them (all run when empty).
    pub filters: Vec<String>,
    /// A case runs when it has any of these tags (all run when empty).
    pub tags: Vec<String>,
    /// `(k, n)`: run the k-th of n shards (1-based).
    pub shard: Option<(usize, usize)>,
}

impl Selection {
    /// The indices of the cases to run, in suite order. Sharding is round-robin over the
    /// cases that pass the filters, in suite order (sorted by file path): the same files and
    /// flags give the same split on every machine, and shards 1..=n together cover each
    /// case exactly once.
    pub fn apply(&self, cases: &[Case]) -> Vec<usize> {
        let chosen = cases.iter().enumerate().filter(|(_, c)| {
            (self.filters.is_empty() || self.filters.iter().any(|f| c.name.contains(f.as_str())))
                && (self.tags.is_empty() || self.tags.iter().any(|t| c.tags.contains(t)))
        });
        match self.shard {
            None => chosen.map(|(i, _)| i).collect(),
            Some((k, n)) => chosen
                .enumerate()
                .filter(|(position, _)| position % n == k - 1)
                .map(|(_, (i, _))| i)
                .collect(),
        }
    }
}

/// Parses `K/N` with 1 <= K <= N.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("expected K/N (like 2/3), found {text:?}"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("{k:?} is not a shard number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a shard count"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!(
            "shard {k}/{n} is out of range: K must be between 1 and N"
        ));
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_each_case_once() {
        let cases: Vec<Case> = (0..10)
            .map(|i| crate::runner::tests::case(&format!("c{i}")))
            .collect();
        let mut seen = Vec::new();
        for k in 1..=3 {
            seen.extend(
                Selection {
                    shard: Some((k, 3)),
                    ..Default::default()
                }
                .apply(&cases),
            );
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("3").is_err());
    }
}
