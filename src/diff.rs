//! Unified diffs of normalised views, made with `similar`. Pure.

use similar::TextDiff;

/// `--- expected` / `+++ actual` unified diff of two texts, three lines of context.
pub fn unified(expected: &str, actual: &str) -> String {
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_has_headers_and_marks() {
        let d = super::unified("a\nb\n", "a\nc\n");
        assert!(d.starts_with("--- expected\n+++ actual\n"), "{d}");
        assert!(d.contains("-b\n+c\n"));
    }
}
