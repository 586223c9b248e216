//! Case-file errors as users read them: `path:line:column`, the line itself, a caret, and a
//! "did you mean" where a key or value is misspelt.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole (unreadable, missing).
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The text of `line`, for the snippet.
    pub source_line: Option<String>,
}

impl CaseError {
    pub fn whole_file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    pub fn at(
        file: impl Into<PathBuf>,
        source: &str,
        (line, column): (usize, usize),
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            column,
            message: message.into(),
            hint,
            source_line: source
                .lines()
                .nth(line.saturating_sub(1))
                .map(str::to_owned),
        }
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            return write!(f, "  --> {}", self.file.display());
        }
        write!(
            f,
            "  --> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if let Some(text) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            // Columns count characters; tabs are kept so the caret lines up under them.
            let lead: String = text
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad} |\n{number} | {text}\n{pad} | {lead}^")?;
            if let Some(hint) = &self.hint {
                write!(f, " {hint}")?;
            }
        } else if let Some(hint) = &self.hint {
            write!(f, "\n  = {hint}")?;
        }
        Ok(())
    }
}

/// Every error found in one load, so that a user fixes them all in one go.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<CaseError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// `did you mean `x`?` for a misspelt word among `candidates`, if one is close.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// serde's "unknown field `x`, expected one of `a`, `b`" (or variant) → a hint.
pub fn hint_for_serde_message(message: &str) -> Option<String> {
    let start = message
        .find("unknown field `")
        .or_else(|| message.find("unknown variant `"))?;
    let rest = message[start..].split_once('`')?.1;
    let (word, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    did_you_mean(word, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_snippet_and_caret() {
        let src = "name: x\nexpect:\n  status: twohundred\n";
        let e = CaseError::at(
            "cases/a.yaml",
            src,
            (3, 11),
            "invalid case: expected an integer HTTP status",
            Some("did you mean 200?".into()),
        );
        assert_eq!(
            e.to_string(),
            "error: invalid case: expected an integer HTTP status\n  --> cases/a.yaml:3:11\n  |\n3 |   status: twohundred\n  |           ^ did you mean 200?"
        );
    }

    #[test]
    fn suggests_close_keys() {
        let m = "unknown field `statsu`, expected one of `status`, `headers`, `body`";
        assert_eq!(
            hint_for_serde_message(m).as_deref(),
            Some("did you mean `status`?")
        );
        assert_eq!(
            hint_for_serde_message("unknown field `zzz`, expected `status`"),
            None
        );
    }
}
