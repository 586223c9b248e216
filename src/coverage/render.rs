//! The coverage report as text (`conform coverage`) and as the Markdown of `cases/README.md`
//! (a summary row per operation, and the item table of each operation `coverage.json` marks
//! `detailed`). No I/O.

use super::{ItemReport, OperationReport, Report, Status, Totals};

/// The summary table: one row per operation, then the service's totals.
fn summary(out: &mut String, ops: &[OperationReport], totals: &Totals) {
    out.push_str(
        "| operation | cases | items | forced | offered only | gaps | known gaps | errorCode and enum values open |\n|---|---|---|---|---|---|---|---|\n",
    );
    let row = |out: &mut String, name: &str, cases: String, t: &Totals| {
        out.push_str(&format!(
            "| {name} | {cases} | {} | {} | {} | {} | {} | {} |\n",
            t.items, t.forced, t.offered, t.gaps, t.known_gaps, t.open_values
        ));
    };
    for op in ops {
        row(out, &op.operation, op.cases.to_string(), &op.totals);
    }
    let cases: usize = ops.iter().map(|o| o.cases).sum();
    row(out, "**all**", cases.to_string(), totals);
}

fn gap_text(item: &ItemReport) -> String {
    match &item.known_gap {
        Some(why) => format!("**gap: no case** (known: {why})"),
        None => "**gap: no case**".to_owned(),
    }
}

/// The item table of one operation.
fn detail(out: &mut String, op: &OperationReport) {
    out.push_str("| item | from | forced by | offered by a guess |\n|---|---|---|---|\n");
    for item in &op.items {
        let (forced, offered) = match item.status {
            Status::Gap => (gap_text(item), String::new()),
            Status::Offered => ("—".to_owned(), item.offered_by.join("; ")),
            Status::Forced => (item.forced_by.join("; "), item.offered_by.join("; ")),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            item.id, item.source, forced, offered
        ));
    }
}

/// What goes between the coverage markers of `cases/README.md`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    for (n, s) in report.services.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        // The file name only: the table must read the same wherever the suite was loaded from.
        let file = std::path::Path::new(&s.model)
            .file_name()
            .map_or(s.model.clone(), |f| f.to_string_lossy().into_owned());
        out.push_str(&format!("**{}** (model `{file}`):\n\n", s.service));
        summary(&mut out, &s.operations, &s.totals);
        for op in s
            .operations
            .iter()
            .filter(|o| s.detailed.contains(&o.operation))
        {
            out.push_str(&format!("\n**{}**, item by item:\n\n", op.operation));
            detail(&mut out, op);
        }
    }
    out
}

/// `conform coverage`'s text: one table per operation (each item, its status and the cases),
/// then the totals per operation and of everything.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.services {
        for op in &s.operations {
            let t = &op.totals;
            out.push_str(&format!(
                "{} ({} cases): {} items, {} covered ({} forced, {} offered only by a guess), {} gaps ({} known, {} errorCode/enum values open)\n",
                op.operation, op.cases, t.items, t.covered, t.forced, t.offered, t.gaps, t.known_gaps, t.open_values
            ));
            let width = op
                .items
                .iter()
                .map(|i| i.id.chars().count())
                .max()
                .unwrap_or(4);
            for item in &op.items {
                let (word, cases) = match item.status {
                    Status::Forced => {
                        let mut c = format!("forced by {}", item.forced_by.join("; "));
                        if !item.offered_by.is_empty() {
                            c.push_str(&format!("; offered by {}", item.offered_by.join("; ")));
                        }
                        ("forced", c)
                    }
                    Status::Offered => (
                        "offered",
                        format!("offered by {}", item.offered_by.join("; ")),
                    ),
                    Status::Gap => (
                        "GAP",
                        match &item.known_gap {
                            Some(why) => format!("known gap: {why}"),
                            None if item.required => "no case".to_owned(),
                            None => "no case (a value: needs no case)".to_owned(),
                        },
                    ),
                };
                out.push_str(&format!("  {word:<7}  {:<width$}  {cases}\n", item.id));
            }
            for id in &op.stale_known_gaps {
                out.push_str(&format!(
                    "  note: `{id}` is listed as a known gap in coverage.json but a case covers it\n"
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("Totals, {} ({}):\n", s.service, s.model));
        let width = s
            .operations
            .iter()
            .map(|o| o.operation.len())
            .max()
            .unwrap_or(9)
            .max(9);
        out.push_str(&format!(
            "  {:<width$}  {:>5}  {:>5}  {:>7}  {:>6}  {:>7}  {:>4}  {:>5}  {:>6}\n",
            "operation",
            "cases",
            "items",
            "covered",
            "forced",
            "offered",
            "gaps",
            "known",
            "values"
        ));
        let row = |out: &mut String, name: &str, cases: usize, t: &Totals| {
            out.push_str(&format!(
                "  {name:<width$}  {cases:>5}  {:>5}  {:>7}  {:>6}  {:>7}  {:>4}  {:>5}  {:>6}\n",
                t.items, t.covered, t.forced, t.offered, t.gaps, t.known_gaps, t.open_values
            ));
        };
        for op in &s.operations {
            row(&mut out, &op.operation, op.cases, &op.totals);
        }
        row(
            &mut out,
            "all",
            s.operations.iter().map(|o| o.cases).sum(),
            &s.totals,
        );
        out.push('\n');
    }
    let t = &report.totals;
    out.push_str(&format!(
        "{} items, {} covered ({} forced, {} offered only by a guess), {} gaps ({} known, {} errorCode/enum values open, {} unexplained)\n",
        t.items, t.covered, t.forced, t.offered, t.gaps, t.known_gaps, t.open_values, t.unexplained_gaps
    ));
    out
}
