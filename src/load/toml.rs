//! Reading a TOML file into an [`Expr`] tree: tables become map expressions, strings are parsed for
//! `${...}`, and every node keeps its span.

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{Expr, ExprKind, MapEntry, StrOrigin, Value, parse_template};
use crate::source::{FileId, Sources, Span};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Parses a file already added to `sources`. Syntax errors are all reported, each with its position; an
/// expression that fails to parse is reported and replaced by null so the rest of the file is still checked.
pub fn parse_file(sources: &Sources, file: FileId, diags: &mut Diagnostics) -> Option<Expr> {
    let text = &sources.get(file).text;
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // An array or inline table left open swallows the rest of the file: the parser then reports
        // every later line. Say once where it was opened, and keep only the errors before that.
        let unclosed = errors
            .iter()
            .any(|e| {
                let m = e.message();
                m.contains("unclosed array") || m.contains("unclosed inline table")
            })
            .then(|| unclosed_bracket(text))
            .flatten();
        if let Some(open) = unclosed {
            let what = if text.as_bytes()[open] == b'[' {
                ("array", ']')
            } else {
                ("inline table", '}')
            };
            diags.push(
                Diagnostic::error(format!("invalid TOML: unclosed {}", what.0))
                    .at(Span::new(file, open..open + 1), "opened here, never closed")
                    .help(format!(
                        "close it with `{}`; everything after it was read as part of it",
                        what.1
                    )),
            );
        }
        let errors = errors.into_iter().filter(|e| match (unclosed, e.span()) {
            (Some(open), Some(r)) => r.start < open,
            (Some(_), None) => false,
            (None, _) => true,
        });
        for e in errors {
            let span = e
                .span()
                .map_or(Span::new(file, 0..0), |r| Span::new(file, r));
            let mut message = e.message().trim_end().to_string();
            // `key =` with nothing after it: the parser's own words ("string values must be quoted") mislead.
            let before = &text[..(span.start as usize).min(text.len())];
            let after = text.get(span.start as usize..).unwrap_or("");
            if before.trim_end_matches([' ', '\t']).ends_with('=')
                && after
                    .trim_start_matches([' ', '\t'])
                    .starts_with(['\n', '\r', '#'])
                    | after.trim().is_empty()
            {
                message = "missing value after `=`".into();
            }
            diags.push(
                Diagnostic::error(format!("invalid TOML: {message}"))
                    .at(span, "here")
                    .help("see https://toml.io for the syntax; strings need quotes, tables `[kind.name]` headers"),
            );
        }
        return None;
    }
    let span = Span::new(file, 0..text.len());
    Some(Expr {
        span,
        kind: ExprKind::Map(table_entries(text, file, table.get_ref(), diags)),
    })
}

/// The byte offset of the first `[` or `{` that is never closed, outside strings, comments and table
/// headers.
fn unclosed_bracket(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(&[quote; 3]);
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && bytes[i..].starts_with(&[quote; 3]) {
                        i += 2;
                        break;
                    }
                    if !triple && (bytes[i] == quote || bytes[i] == b'\n') {
                        break;
                    }
                    i += 1;
                }
            }
            // A table header: `[...]` or `[[...]]` opening a line, outside any value.
            b'[' if open.is_empty()
                && text[..i]
                    .rsplit('\n')
                    .next()
                    .is_some_and(|l| l.trim().is_empty()) =>
            {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' | b'{' => open.push(i),
            b']' | b'}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.first().copied()
}

fn table_entries(
    text: &str,
    file: FileId,
    table: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> Vec<MapEntry> {
    table
        .iter()
        .map(|(k, v)| MapEntry {
            key: k.get_ref().to_string(),
            key_span: Span::new(file, k.span()),
            value: convert(text, file, v, diags),
        })
        .collect()
}

fn convert(
    text: &str,
    file: FileId,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Expr {
    let span = Span::new(file, value.span());
    let lit = |v| Expr {
        span,
        kind: ExprKind::Lit(v),
    };
    match value.get_ref() {
        DeValue::String(s) => {
            let origin = string_origin(text, span, s);
            parse_template(s, origin).unwrap_or_else(|d| {
                diags.push(d);
                lit(Value::Null)
            })
        }
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => lit(Value::Number(n as f64)),
            Err(_) => {
                diags.push(Diagnostic::error("integer out of range").at(span, "too large"));
                lit(Value::Null)
            }
        },
        DeValue::Float(f) => lit(Value::Number(f.as_str().parse().unwrap_or(f64::NAN))),
        DeValue::Boolean(b) => lit(Value::Bool(*b)),
        DeValue::Datetime(d) => lit(Value::String(d.to_string())),
        DeValue::Array(items) => Expr {
            span,
            kind: ExprKind::List(
                items
                    .iter()
                    .map(|v| convert(text, file, v, diags))
                    .collect(),
            ),
        },
        DeValue::Table(t) => Expr {
            span,
            kind: ExprKind::Map(table_entries(text, file, t, diags)),
        },
    }
}

/// Finds where a string's content starts in the source, if it maps one to one (no escapes).
fn string_origin(text: &str, whole: Span, decoded: &str) -> StrOrigin {
    let raw = text
        .get(whole.start as usize..whole.end as usize)
        .unwrap_or("");
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let mut start = quote;
    if quote == 3 {
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let content = raw
        .get(start..raw.len().saturating_sub(quote))
        .unwrap_or("");
    let content_start = (content == decoded).then_some(whole.start + start as u32);
    StrOrigin {
        whole,
        content_start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(text: &str) -> (Sources, Option<Expr>, Diagnostics) {
        let mut sources = Sources::default();
        let file = sources.add(Path::new("t.toml"), "t.toml".into(), text.into());
        let mut diags = Diagnostics::default();
        let expr = parse_file(&sources, file, &mut diags);
        (sources, expr, diags)
    }

    #[test]
    fn tables_become_maps_with_key_spans() {
        let (sources, expr, diags) = load("[vpc.main]\ncidr_block = \"10.0.0.0/16\"\n");
        assert!(!diags.has_errors());
        let root = expr.unwrap();
        let vpc = &root.as_map().unwrap()[0];
        assert_eq!(vpc.key, "vpc");
        let main = &vpc.value.as_map().unwrap()[0];
        let cidr = &main.value.as_map().unwrap()[0];
        assert_eq!(sources.location(cidr.key_span), "t.toml:2:1");
        assert_eq!(sources.location(cidr.value.span), "t.toml:2:14");
        assert_eq!(cidr.value.as_str(), Some("10.0.0.0/16"));
    }

    #[test]
    fn expression_errors_point_inside_the_string() {
        let (sources, _, diags) = load("x = \"a ${var.b +}\"\n");
        let d = &diags.0[0];
        assert_eq!(
            sources.location(d.primary.as_ref().unwrap().0),
            "t.toml:1:17"
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let (sources, expr, diags) = load("a = 1\nb = \n");
        assert!(expr.is_none());
        let d = &diags.0[0];
        assert!(d.message.starts_with("invalid TOML"), "{}", d.message);
        assert!(
            sources
                .location(d.primary.as_ref().unwrap().0)
                .starts_with("t.toml:2:")
        );
    }

    #[test]
    fn strings_with_escapes_fall_back_to_the_whole_literal() {
        let (sources, _, diags) = load("x = \"\\t${1 +}\"\n");
        assert_eq!(
            sources.location(diags.0[0].primary.as_ref().unwrap().0),
            "t.toml:1:5"
        );
    }
}
