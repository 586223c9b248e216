//! The `conform compare --html` report: one self-contained page (inline CSS, no scripts, no
//! fonts, images or links to fetch) that a person reads at a glance: the score, the counts and
//! a bar first, then every difference side by side (recording left, endpoint right, differing
//! lines highlighted and the differing words marked), then the list of every exchange.
//!
//! Pure: returns a string. Every piece of text that comes from a recording or an endpoint goes
//! through `escape`: an endpoint's answer must never become markup in the page.

use std::fmt::Write as _;

use similar::{ChangeTag, DiffOp, TextDiff};

use super::fidelity::{Class, CompareReport, ExchangeResult, percent};

const STYLE: &str = r#"
:root { --identical: #1a7f37; --equivalent: #4ac26b; --different: #cf222e; --errored: #bf8700;
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --del: #ffebe9; --ins: #dafbe1;
  --del-mark: #ffc1bc; --ins-mark: #aceebb; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
.target { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.summary { display: flex; flex-wrap: wrap; gap: 16px; align-items: stretch; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 12px 18px; min-width: 200px; }
.tile .big { display: block; font-size: 34px; font-weight: 700; line-height: 1.1; }
.tile .what { color: var(--muted); }
.verdict.pass .big { color: var(--identical); }
.verdict.fail .big { color: var(--different); }
.bar { display: flex; height: 18px; border-radius: 9px; overflow: hidden; margin: 18px 0 8px;
  background: var(--line); }
.bar span { display: block; height: 100%; }
.legend { display: flex; flex-wrap: wrap; gap: 18px; list-style: none; padding: 0; margin: 0; }
.legend li::before { content: ""; display: inline-block; width: 11px; height: 11px;
  border-radius: 3px; margin-right: 6px; vertical-align: -1px; background: currentColor; }
.legend li span { color: var(--ink); }
.c-identical { color: var(--identical); } .b-identical { background: var(--identical); }
.c-equivalent { color: var(--equivalent); } .b-equivalent { background: var(--equivalent); }
.c-different { color: var(--different); } .b-different { background: var(--different); }
.c-errored { color: var(--errored); } .b-errored { background: var(--errored); }
.badge { display: inline-block; color: #fff; border-radius: 10px; padding: 0 8px; font-size: 12px;
  font-weight: 600; margin-right: 6px; vertical-align: 1px; }
.difference { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0 0 18px; }
.request { color: var(--muted); margin: 0 0 8px; }
.paths { margin: 0 0 10px; padding-left: 20px; }
.paths li { margin: 2px 0; }
.paths code.path { font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
table.side { table-layout: fixed; border: 1px solid var(--line); }
table.side th, table.all th { white-space: nowrap; }
table.side th { text-align: left; background: #f6f8fa; padding: 4px 8px; border-bottom: 1px solid var(--line); }
table.side td { padding: 0 8px; vertical-align: top; white-space: pre-wrap; word-break: break-all; }
table.side td.ln { width: 40px; color: var(--muted); text-align: right; user-select: none;
  border-right: 1px solid var(--line); }
table.side col.ln { width: 40px; }
table.side td.text + td.ln { border-left: 1px solid var(--line); }
td.del { background: var(--del); } td.ins { background: var(--ins); }
td.del mark { background: var(--del-mark); } td.ins mark { background: var(--ins-mark); }
mark { color: inherit; border-radius: 2px; }
td.gap { background: #f6f8fa; }
.error { background: #fff8c5; border-radius: 6px; padding: 8px 10px; margin: 0; white-space: pre-wrap; }
table.all th, table.all td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
table.all td.num, table.all td.nowrap { text-align: right; white-space: nowrap; }
table.all td.nowrap { text-align: left; }
table.all td.name { overflow-wrap: anywhere; }
table.all code { font-size: 12px; }
.none { color: var(--identical); font-weight: 600; }
"#;

pub fn render(report: &CompareReport<'_>) -> String {
    let score = report.score();
    let passed = score.passes(report.min_fidelity);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>conform compare: {} fidelity</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        percent(score.exchange_score())
    );

    // At a glance: the verdict, the two scores, the bar.
    let _ = writeln!(
        out,
        "<h1>Fidelity report</h1>\n<p class=\"target\">endpoint <code>{}</code> compared with \
         the recordings in <code>{}</code> &middot; conform {}</p>",
        escape(report.endpoint),
        escape(report.recordings),
        env!("CARGO_PKG_VERSION")
    );
    let rule = match report.min_fidelity {
        Some(min) => format!("threshold: {} of exchanges", percent(min)),
        None => "nothing may differ (no --min-fidelity)".to_owned(),
    };
    out.push_str("<div class=\"summary\">\n");
    let _ = writeln!(
        out,
        "<div class=\"tile verdict {}\"><span class=\"big\">{}</span><span class=\"what\">{}</span></div>",
        if passed { "pass" } else { "fail" },
        if passed { "PASSED" } else { "FAILED" },
        escape(&rule)
    );
    let _ = writeln!(
        out,
        "<div class=\"tile\"><span class=\"big\">{}</span><span class=\"what\">of exchanges \
         equivalent or identical ({} of {})</span></div>",
        percent(score.exchange_score()),
        score.identical + score.equivalent,
        score.exchanges
    );
    let _ = writeln!(
        out,
        "<div class=\"tile\"><span class=\"big\">{}</span><span class=\"what\">of fields equal \
         ({} of {})</span></div>",
        percent(score.field_score()),
        score.equal_fields,
        score.fields
    );
    out.push_str("</div>\n<div class=\"bar\">");
    let classes = [
        (Class::Identical, score.identical),
        (Class::Equivalent, score.equivalent),
        (Class::Different, score.different),
        (Class::Errored, score.errored),
    ];
    for (class, n) in classes {
        if n > 0 {
            let width = n as f64 * 100.0 / score.exchanges.max(1) as f64;
            let _ = write!(
                out,
                "<span class=\"b-{class}\" style=\"width: {width:.3}%\" title=\"{n} {class}\"></span>"
            );
        }
    }
    out.push_str("</div>\n<ul class=\"legend\">");
    for (class, n) in classes {
        let _ = write!(out, "<li class=\"c-{class}\"><span>{n} {class}</span></li>");
    }
    out.push_str("</ul>\n");

    // Every difference, side by side.
    let troubled: Vec<&ExchangeResult> = report
        .results
        .iter()
        .filter(|r| !r.class().agrees())
        .collect();
    let _ = writeln!(out, "<h2>Differences ({})</h2>", troubled.len());
    if troubled.is_empty() {
        out.push_str("<p class=\"none\">None: every exchange was answered as recorded.</p>\n");
    }
    for (i, r) in troubled.iter().enumerate() {
        difference(&mut out, i + 1, r);
    }

    // Every exchange, one row each.
    let _ = writeln!(out, "<h2>All exchanges ({})</h2>", score.exchanges);
    out.push_str(
        "<table class=\"all\"><thead><tr><th>result</th><th>recording</th><th>request</th>\
         <th>fields equal</th><th>time</th></tr></thead><tbody>\n",
    );
    for r in report.results {
        let class = r.class();
        let _ = writeln!(
            out,
            "<tr><td><span class=\"badge b-{class}\">{class}</span></td><td class=\"name\"><code>{}</code></td>\
             <td class=\"nowrap\"><code>{}</code></td><td class=\"num\">{} / {}</td><td class=\"num\">{:.1} ms</td></tr>",
            escape(&r.name),
            escape(&r.request_line),
            r.comparison.equal_fields,
            r.comparison.fields,
            r.duration.as_secs_f64() * 1000.0
        );
    }
    out.push_str("</tbody></table>\n</body>\n</html>\n");
    out
}

fn difference(out: &mut String, n: usize, r: &ExchangeResult) {
    let class = r.class();
    let _ = writeln!(
        out,
        "<section class=\"difference\" id=\"difference-{n}\">\n<h3><span class=\"badge b-{class}\">{class}</span>{}</h3>\n<p class=\"request\"><code>{}</code></p>",
        escape(&r.name),
        escape(&r.request_line)
    );
    if let Some(message) = &r.error {
        let _ = writeln!(
            out,
            "<p class=\"error\">no usable answer: {}</p>\n</section>",
            escape(message)
        );
        return;
    }
    out.push_str("<ul class=\"paths\">\n");
    for m in &r.comparison.differences {
        let _ = writeln!(
            out,
            "<li><code class=\"path\">{}</code>: {}</li>",
            escape(&m.path),
            escape(&m.message)
        );
    }
    out.push_str("</ul>\n");
    side_by_side(out, &r.comparison.expected, &r.comparison.actual);
    out.push_str("</section>\n");
}

/// Two columns aligned on what the views share: equal lines face each other, a changed line
/// faces its counterpart (words that differ marked), a line only one side has faces a gap.
fn side_by_side(out: &mut String, expected: &str, actual: &str) {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    out.push_str(
        "<table class=\"side code\"><colgroup><col class=\"ln\"><col><col class=\"ln\"><col></colgroup>\n\
         <thead><tr><th colspan=\"2\">expected (recording)</th><th colspan=\"2\">actual (endpoint)</th></tr></thead><tbody>\n",
    );
    let diff = TextDiff::from_slices(&old, &new);
    for op in diff.ops() {
        match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    row(
                        out,
                        Some((old_index + k, escape(old[old_index + k]))),
                        Some((new_index + k, escape(new[new_index + k]))),
                        false,
                    );
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                for (k, line) in old.iter().enumerate().skip(old_index).take(old_len) {
                    row(out, Some((k, escape(line))), None, true);
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for (k, line) in new.iter().enumerate().skip(new_index).take(new_len) {
                    row(out, None, Some((k, escape(line))), true);
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                for k in 0..old_len.max(new_len) {
                    let o = (k < old_len).then(|| old_index + k);
                    let n = (k < new_len).then(|| new_index + k);
                    let (left, right) = match (o, n) {
                        (Some(o), Some(n)) => {
                            let (l, r) = marked(old[o], new[n]);
                            (Some((o, l)), Some((n, r)))
                        }
                        (o, n) => (
                            o.map(|o| (o, escape(old[o]))),
                            n.map(|n| (n, escape(new[n]))),
                        ),
                    };
                    row(out, left, right, true);
                }
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

/// One row: `(line index, escaped html)` per side; `changed` colours the sides present.
fn row(
    out: &mut String,
    left: Option<(usize, String)>,
    right: Option<(usize, String)>,
    changed: bool,
) {
    out.push_str("<tr>");
    for (side, cell) in [("del", left), ("ins", right)] {
        match cell {
            Some((i, html)) => {
                let class = if changed { side } else { "same" };
                let _ = write!(
                    out,
                    "<td class=\"ln\">{}</td><td class=\"text {class}\">{html}</td>",
                    i + 1
                );
            }
            None => out.push_str("<td class=\"ln\"></td><td class=\"text gap\"></td>"),
        }
    }
    out.push_str("</tr>\n");
}

/// The two lines with the words that differ wrapped in `<mark>`, escaped.
fn marked(old: &str, new: &str) -> (String, String) {
    let diff = TextDiff::from_words(old, new);
    let (mut left, mut right) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        let text = escape(change.value());
        match change.tag() {
            ChangeTag::Equal => {
                left.push_str(&text);
                right.push_str(&text);
            }
            ChangeTag::Delete => {
                let _ = write!(left, "<mark>{text}</mark>");
            }
            ChangeTag::Insert => {
                let _ = write!(right, "<mark>{text}</mark>");
            }
        }
    }
    (left, right)
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (other than line breaks and tabs) have no business in a page.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>&\"'\u{1}"),
            "&lt;script&gt;&amp;&quot;&#39;\u{FFFD}"
        );
    }

    #[test]
    fn side_by_side_marks_the_differing_words() {
        let mut out = String::new();
        side_by_side(
            &mut out,
            "status: 400\nbody: <x>\n",
            "status: 500\nbody: <x>\n",
        );
        assert!(
            out.contains("<td class=\"text del\">status: <mark>400</mark></td>"),
            "{out}"
        );
        assert!(out.contains("<td class=\"text ins\">status: <mark>500</mark></td>"));
        assert!(out.contains("<td class=\"text same\">body: &lt;x&gt;</td>"));
        assert_eq!(out.matches("<tr>").count(), 3, "{out}");
    }
}
