//! Diagnostics: problems found in configuration, each pointing at a file, line and column, with the source
//! line, a label, notes and a hint. Stages collect every problem they find instead of stopping at the first.

use crate::source::{Sources, Span};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with where it is and what to do about it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// The place to fix, with a short label printed under it.
    pub primary: Option<(Span, String)>,
    /// Other places that explain the problem (the first definition of a duplicate, the steps of a cycle).
    pub notes: Vec<(Option<Span>, String)>,
    /// What to do about it.
    pub help: Option<String>,
}

/// The longest message kept whole: one quoting a value (a megabyte string that is not a CIDR block)
/// keeps its beginning and its end, where the explanation is.
/// Messages listing several findings (renames to declare) run to a few thousand characters and stay whole.
const MAX_MESSAGE: usize = 4000;
/// How much of each end of a clipped message is kept.
const CLIP_KEEP: usize = 200;

fn clip(message: String) -> String {
    let n = message.chars().count();
    if n <= MAX_MESSAGE {
        return message;
    }
    let keep = CLIP_KEEP;
    let head: String = message.chars().take(keep).collect();
    let tail: String = message.chars().skip(n - keep).collect();
    format!("{head} [... {} characters ...] {tail}", n - 2 * keep)
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: clip(message.into()),
            primary: None,
            notes: vec![],
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some((span, label.into()));
        self
    }

    pub fn note(mut self, span: Option<Span>, text: impl Into<String>) -> Self {
        self.notes.push((span, text.into()));
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(clip(text.into()));
        self
    }

    /// Adds a "did you mean" hint when one of `candidates` is close to `name`.
    pub fn suggest<'a>(self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        match did_you_mean(name, candidates) {
            Some(best) => self.help(format!("did you mean `{best}`?")),
            None => self,
        }
    }
}

/// Problems collected by a stage, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sorted by file and position, so output is stable and reads top to bottom.
    pub fn sort(&mut self) {
        // The same error inside a module is found once per instance; say it once.
        let mut seen = std::collections::HashSet::new();
        self.0
            .retain(|d| seen.insert((d.message.clone(), d.primary.as_ref().map(|(s, _)| *s))));
        self.0
            .sort_by_key(|d| d.primary.as_ref().map(|(s, _)| (s.file, s.start)));
    }
}

/// The closest candidate within a small edit distance, if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbouring letters as one edit (`mian` -> `main`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Colours for terminal output; all empty when colour is off.
struct Palette {
    error: &'static str,
    warning: &'static str,
    accent: &'static str,
    bold: &'static str,
    reset: &'static str,
}

const COLOR: Palette = Palette {
    error: "\x1b[1;31m",
    warning: "\x1b[1;33m",
    accent: "\x1b[1;34m",
    bold: "\x1b[1m",
    reset: "\x1b[0m",
};
const PLAIN: Palette = Palette {
    error: "",
    warning: "",
    accent: "",
    bold: "",
    reset: "",
};

/// Renders diagnostics the way compilers do:
///
/// ```text
/// error: unknown attribute `cidr` on vpc
///  --> stacks/network.toml:4:1
///   |
/// 4 | cidr = "10.0.0.0/16"
///   | ^^^^ not an attribute of vpc
///    = help: did you mean `cidr_block`?
/// ```
pub fn render(sources: &Sources, diags: &Diagnostics, color: bool) -> String {
    let p = if color { &COLOR } else { &PLAIN };
    let mut out = String::new();
    for d in &diags.0 {
        let (word, colour) = match d.severity {
            Severity::Error => ("error", p.error),
            Severity::Warning => ("warning", p.warning),
        };
        let _ = writeln!(
            out,
            "{colour}{word}{}: {}{}{}",
            p.reset, p.bold, d.message, p.reset
        );
        // One gutter width for all snippets of a diagnostic, so their bars line up.
        let width = d
            .primary
            .iter()
            .map(|(s, _)| *s)
            .chain(d.notes.iter().filter_map(|(s, _)| *s))
            .map(|s| sources.get(s.file).line_col(s.start).0.to_string().len())
            .max()
            .unwrap_or(1);
        if let Some((span, label)) = &d.primary {
            snippet(&mut out, sources, *span, label, colour, p, width);
        }
        for (span, text) in &d.notes {
            match span {
                Some(span) => {
                    let _ = writeln!(out, "  {}= note{}: {text}", p.accent, p.reset);
                    snippet(&mut out, sources, *span, "", p.accent, p, width);
                }
                None => {
                    let _ = writeln!(out, "  {}= note{}: {text}", p.accent, p.reset);
                }
            }
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "  {}= help{}: {help}", p.accent, p.reset);
        }
        out.push('\n');
    }
    out
}

/// Source lines longer than this many characters are cut to a window around the column.
const SNIPPET_WIDTH: usize = 160;
/// How much of a cut line is shown before the column.
const SNIPPET_BEFORE: usize = 60;

fn snippet(
    out: &mut String,
    sources: &Sources,
    span: Span,
    label: &str,
    colour: &str,
    p: &Palette,
    width: usize,
) {
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start);
    let (end_line, end_col) = file.line_col(span.end.max(span.start));
    let full: Vec<char> = file.line(line).chars().collect();
    let pad = " ".repeat(width);
    // Underline to the end of the span, or of the line when the span runs over several lines.
    let len = if end_line == line {
        end_col.saturating_sub(col).max(1)
    } else {
        (full.len() + 1).saturating_sub(col).max(1)
    };
    // A long line (generated, minified, binary) is shown as a window around the column.
    let (first, last) = if full.len() > SNIPPET_WIDTH {
        let first = (col - 1).saturating_sub(SNIPPET_BEFORE).min(full.len());
        (first, (first + SNIPPET_WIDTH).min(full.len()))
    } else {
        (0, full.len())
    };
    let mut text: String = full[first..last].iter().collect();
    let mut indent: String = full[first..(col - 1).clamp(first, last)]
        .iter()
        .map(|c| if *c == '\t' { '\t' } else { ' ' })
        .collect();
    if first > 0 {
        text.insert(0, '…');
        indent.insert(0, ' ');
    }
    if last < full.len() {
        text.push('…');
    }
    let len = len.min((last + 1).saturating_sub(col).max(1));
    let _ = writeln!(
        out,
        "{pad}{}-->{} {}:{line}:{col}",
        p.accent, p.reset, file.display
    );
    let _ = writeln!(out, "{pad} {}|{}", p.accent, p.reset);
    let _ = writeln!(out, "{}{line:>width$} |{} {text}", p.accent, p.reset);
    let label = if label.is_empty() {
        String::new()
    } else {
        format!(" {label}")
    };
    let _ = writeln!(
        out,
        "{pad} {}|{} {indent}{colour}{}{label}{}",
        p.accent,
        p.reset,
        "^".repeat(len),
        p.reset
    );
}

/// Machine-readable diagnostics, for editors and CI annotations.
pub fn to_json(sources: &Sources, diags: &Diagnostics) -> serde_json::Value {
    let place = |span: &Span| {
        let file = sources.get(span.file);
        let (line, column) = file.line_col(span.start);
        serde_json::json!({ "file": file.display, "line": line, "column": column })
    };
    serde_json::Value::Array(
        diags
            .0
            .iter()
            .map(|d| {
                serde_json::json!({
                    "severity": d.severity,
                    "message": d.message,
                    "location": d.primary.as_ref().map(|(s, _)| place(s)),
                    "label": d.primary.as_ref().map(|(_, l)| l),
                    "notes": d.notes.iter().map(|(s, t)| serde_json::json!({
                        "message": t, "location": s.as_ref().map(place)
                    })).collect::<Vec<_>>(),
                    "help": d.help,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_message_quoting_a_huge_value_keeps_its_beginning_and_end() {
        let d = Diagnostic::error(format!(
            "{:?} is not a valid IPv4 CIDR block",
            "1".repeat(100_000)
        ));
        assert!(d.message.chars().count() < 500, "{}", d.message);
        assert!(d.message.starts_with("\"111"), "{}", d.message);
        assert!(
            d.message.ends_with("is not a valid IPv4 CIDR block"),
            "{}",
            d.message
        );
    }

    #[test]
    fn a_megabyte_line_is_cut_around_the_column() {
        let mut sources = Sources::default();
        let line = format!(
            "x = \"{}@{}\"",
            "a".repeat(1_000_000),
            "b".repeat(1_000_000)
        );
        let file = sources.add(Path::new("big.toml"), "big.toml".into(), line.clone());
        let at = line.find('@').unwrap();
        let d = Diagnostic::error("bad").at(Span::new(file, at..at + 1), "here");
        let out = render(&sources, &Diagnostics(vec![d]), false);
        assert!(out.len() < 1000, "{} characters", out.len());
        let lines: Vec<&str> = out.lines().collect();
        let source = lines.iter().find(|l| l.contains('@')).unwrap();
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        // The caret sits under the `@`, both lines cut with an ellipsis.
        assert_eq!(
            source.chars().position(|c| c == '@'),
            caret.chars().position(|c| c == '^')
        );
        assert!(
            source.contains("…aaa") && source.ends_with("bbb…"),
            "{source}"
        );
        assert!(out.contains("big.toml:1:"), "{out}");
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("cidr_blok", ["cidr_block", "tags"]),
            Some("cidr_block")
        );
        assert_eq!(did_you_mean("zzz", ["cidr_block", "tags"]), None);
        assert_eq!(did_you_mean("vpc", ["vpc"]), None);
        assert_eq!(did_you_mean("mian", ["main", "other"]), Some("main"));
    }

    #[test]
    fn renders_location_line_and_underline() {
        let mut sources = Sources::default();
        let id = sources.add(
            Path::new("s.toml"),
            "stacks/s.toml".into(),
            "[vpc.main]\ncidr = \"x\"\n".into(),
        );
        let mut diags = Diagnostics::default();
        diags.push(
            Diagnostic::error("unknown attribute `cidr` on vpc")
                .at(Span::new(id, 11..15), "not an attribute of vpc")
                .help("did you mean `cidr_block`?"),
        );
        let text = render(&sources, &diags, false);
        assert_eq!(
            text,
            "error: unknown attribute `cidr` on vpc\n --> stacks/s.toml:2:1\n  |\n2 | cidr = \"x\"\n  | ^^^^ not an attribute of vpc\n  = help: did you mean `cidr_block`?\n\n"
        );
    }
}
