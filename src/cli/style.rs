//! Colour at the edge: text is built plain and styled only when printing to a terminal that
//! wants it (`--color`, `NO_COLOR`), so tests read plain text.

use std::io::IsTerminal;

#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug)]
pub struct Style {
    enabled: bool,
}

impl Style {
    pub fn for_stdout(choice: ColorChoice) -> Style {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Style { enabled }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }

    /// A unified diff with removed lines red and added lines green.
    pub fn diff(&self, diff: &str) -> String {
        if !self.enabled {
            return diff.to_owned();
        }
        diff.lines()
            .map(|l| {
                if l.starts_with('-') && !l.starts_with("---") {
                    self.red(l)
                } else if l.starts_with('+') && !l.starts_with("+++") {
                    self.green(l)
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }
}
