//! Parsing of strings that may hold `${...}` interpolations, and of the expressions inside them.

use super::ast::{BinOp, Expr, ExprKind, MapEntry, Part, UnOp};
use super::value::Value;
use crate::diag::Diagnostic;
use crate::source::Span;

/// Where a string's characters are in its file, so errors inside an expression point at the exact column.
#[derive(Debug, Clone, Copy)]
pub struct StrOrigin {
    /// The whole string literal, quotes included.
    pub whole: Span,
    /// The byte offset of the first character of the content, when the content maps one to one onto the
    /// source (no escape sequences); otherwise positions fall back to the whole literal.
    pub content_start: Option<u32>,
}

impl StrOrigin {
    fn span(&self, start: usize, end: usize) -> Span {
        match self.content_start {
            Some(base) => Span {
                file: self.whole.file,
                start: base + start as u32,
                end: base + end as u32,
            },
            None => self.whole,
        }
    }
}

/// What every syntax error suggests: the shape of the language, and how to write a literal `${`.
const SYNTAX_HELP: &str = "expressions are written \"${...}\" with references (var.x, vpc.main.id), \
     literals, operators and function calls; write $${ for a literal ${";

/// Parses a configuration string: a literal, one whole `${expr}` (which keeps the value's type), or a
/// template mixing both.
pub fn parse_template(src: &str, origin: StrOrigin) -> Result<Expr, Diagnostic> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut p = Parser {
        src,
        pos: 0,
        origin,
        depth: 0,
    };
    while p.pos < src.len() {
        let rest = &src[p.pos..];
        if rest.starts_with("$${") {
            lit.push_str("${");
            p.pos += 3;
        } else if rest.starts_with("${") {
            let open = p.pos;
            p.pos += 2;
            let expr = p.expr()?;
            p.skip_ws();
            if !p.src[p.pos..].starts_with('}') {
                return Err(p
                    .error_here("expected `}` to close the `${` interpolation")
                    .note(
                        Some(origin.span(open, open + 2)),
                        "the interpolation opened here",
                    ));
            }
            p.pos += 1;
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Interp(expr));
        } else {
            let c = rest.chars().next().unwrap_or_default();
            lit.push(c);
            p.pos += c.len_utf8();
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Ok(match parts.len() {
        0 => Expr {
            span: origin.whole,
            kind: ExprKind::Lit(Value::String(String::new())),
        },
        1 => match parts.pop() {
            Some(Part::Interp(e)) => e,
            Some(Part::Lit(s)) => Expr {
                span: origin.whole,
                kind: ExprKind::Lit(Value::String(s)),
            },
            None => unreachable!("one part"),
        },
        _ => Expr {
            span: origin.whole,
            kind: ExprKind::Template(parts),
        },
    })
}

/// Parses a bare reference such as `vpc.main` or `module.network` (as written in `depends_on`).
pub fn parse_reference(src: &str, origin: StrOrigin) -> Result<Expr, Diagnostic> {
    let mut p = Parser {
        src,
        pos: 0,
        origin,
        depth: 0,
    };
    let expr = p.postfix()?;
    p.skip_ws();
    if p.pos < src.len() || expr.as_traversal().is_none() {
        return Err(Diagnostic::error(format!("`{src}` is not a reference")).at(
            origin.whole,
            "expected a reference such as `vpc.main` or `module.network`",
        ));
    }
    Ok(expr)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
    End,
}

const PUNCTS: &[&str] = &[
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",",
    "(", ")", "[", "]", "{", "}", "=",
];

/// How deep an expression may nest (parentheses, lists, maps, calls, indexes, operators, conditionals).
/// Configuration never comes near it; the bound keeps the parser, the evaluator and dropping the tree
/// from exhausting the stack on hostile or generated input.
pub const MAX_DEPTH: usize = 32;

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    origin: StrOrigin,
    /// Nesting of the expression being parsed: the depth its tree will have where parsing is now.
    depth: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(c) = self.src[self.pos..].chars().next() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    /// Reads the next token without consuming it: (token, start, end).
    fn peek(&mut self) -> Result<(Tok, usize, usize), Diagnostic> {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.src[start..];
        let Some(c) = rest.chars().next() else {
            return Ok((Tok::End, start, start));
        };
        if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            return Ok((Tok::Ident(rest[..len].to_string()), start, start + len));
        }
        if c.is_ascii_digit() {
            let len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let text = &rest[..len];
            return match text.parse::<f64>() {
                Ok(n) => Ok((Tok::Num(n), start, start + len)),
                Err(_) => {
                    Err(self.error_at(start, start + len, format!("`{text}` is not a number")))
                }
            };
        }
        if c == '"' {
            let mut out = String::new();
            let mut chars = rest.char_indices().skip(1);
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => return Ok((Tok::Str(out), start, start + i + 1)),
                    '\\' => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, 't')) => out.push('\t'),
                        Some((_, c @ ('"' | '\\'))) => out.push(c),
                        Some((j, c)) => {
                            return Err(self.error_at(
                                start + i,
                                start + j + c.len_utf8(),
                                format!("unknown escape `\\{c}`"),
                            ));
                        }
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            return Err(self.error_at(start, self.src.len(), "unterminated string".into()));
        }
        for p in PUNCTS {
            if rest.starts_with(p) {
                return Ok((Tok::Punct(p), start, start + p.len()));
            }
        }
        Err(self.error_at(
            start,
            start + c.len_utf8(),
            format!("unexpected character `{c}`"),
        ))
    }

    fn next(&mut self) -> Result<(Tok, usize, usize), Diagnostic> {
        let t = self.peek()?;
        self.pos = t.2;
        Ok(t)
    }

    fn eat(&mut self, punct: &str) -> Result<bool, Diagnostic> {
        let (tok, _, end) = self.peek()?;
        if tok == Tok::Punct(PUNCTS.iter().find(|p| **p == punct).copied().unwrap_or("")) {
            self.pos = end;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, punct: &str, what: &str) -> Result<usize, Diagnostic> {
        if self.eat(punct)? {
            return Ok(self.pos);
        }
        let (tok, s, e) = self.peek()?;
        Err(self.error_at(
            s,
            e.max(s + 1).min(self.src.len().max(s)),
            format!("expected `{punct}` {what}, found {}", describe(&tok)),
        ))
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }

    fn error_at(&self, start: usize, end: usize, message: String) -> Diagnostic {
        Diagnostic::error(format!("invalid expression: {message}"))
            .at(self.span(start, end), "here")
            .help(SYNTAX_HELP)
    }

    fn error_here(&mut self, message: &str) -> Diagnostic {
        let (tok, s, e) = match self.peek() {
            Ok(t) => t,
            Err(d) => return d,
        };
        Diagnostic::error(format!(
            "invalid expression: {message}, found {}",
            describe(&tok)
        ))
        .at(self.span(s, e.max(s)), "here")
        .help(SYNTAX_HELP)
    }

    /// Goes one level deeper, or refuses at `start` once [`MAX_DEPTH`] is reached.
    fn deeper(&mut self, start: usize) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let end = (start + 1).min(self.src.len()).max(start);
            return Err(Diagnostic::error(format!(
                "expression nested more than {MAX_DEPTH} levels deep"
            ))
            .at(self.span(start, end), "this level is one too many")
            .help("split it up with `locals` (each local can build on another)"));
        }
        Ok(())
    }

    pub fn expr(&mut self) -> Result<Expr, Diagnostic> {
        let start = self.pos;
        self.deeper(start)?;
        let result = self.conditional();
        self.depth -= 1;
        result
    }

    fn conditional(&mut self) -> Result<Expr, Diagnostic> {
        let cond = self.binary(0)?;
        if self.eat("?")? {
            let then = self.expr()?;
            self.expect(":", "in a conditional `cond ? a : b`")?;
            let otherwise = self.expr()?;
            let span = cond.span.to(otherwise.span);
            return Ok(Expr {
                span,
                kind: ExprKind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)),
            });
        }
        Ok(cond)
    }

    fn binary(&mut self, min_prec: u8) -> Result<Expr, Diagnostic> {
        let outer = self.depth;
        let result = self.binary_chain(min_prec);
        self.depth = outer;
        result
    }

    /// `a + b + c`: each operator folded makes the (left-deep) tree one level deeper.
    fn binary_chain(&mut self, min_prec: u8) -> Result<Expr, Diagnostic> {
        let mut lhs = self.unary()?;
        loop {
            let (tok, start, end) = self.peek()?;
            let Tok::Punct(p) = tok else { break };
            let Some((op, prec)) = binop(p) else { break };
            if prec < min_prec {
                break;
            }
            self.deeper(start)?;
            self.pos = end;
            let rhs = self.binary(prec + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                span,
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, Diagnostic> {
        let (tok, start, end) = self.peek()?;
        let op = match tok {
            Tok::Punct("!") => UnOp::Not,
            Tok::Punct("-") => UnOp::Neg,
            _ => return self.postfix(),
        };
        self.deeper(start)?;
        self.pos = end;
        let inner = self.unary();
        self.depth -= 1;
        let inner = inner?;
        Ok(Expr {
            span: self.span(start, end).to(inner.span),
            kind: ExprKind::Unary(op, Box::new(inner)),
        })
    }

    fn postfix(&mut self) -> Result<Expr, Diagnostic> {
        let outer = self.depth;
        let result = self.postfix_chain();
        self.depth = outer;
        result
    }

    /// `a.b[0].c`: each step makes the (left-deep) tree one level deeper.
    fn postfix_chain(&mut self) -> Result<Expr, Diagnostic> {
        let mut expr = self.primary()?;
        loop {
            let step = self.pos;
            if self.eat(".")? {
                self.deeper(step)?;
                let (tok, s, e) = self.next()?;
                let name = match tok {
                    Tok::Ident(name) => name,
                    // `list.0` is accepted as an index, as in Terraform.
                    Tok::Num(n) if n.fract() == 0.0 => {
                        let index = Expr {
                            span: self.span(s, e),
                            kind: ExprKind::Lit(Value::Number(n)),
                        };
                        let span = expr.span.to(index.span);
                        expr = Expr {
                            span,
                            kind: ExprKind::Index(Box::new(expr), Box::new(index)),
                        };
                        continue;
                    }
                    other => {
                        return Err(self.error_at(
                            s,
                            e.max(s + 1),
                            format!("expected a name after `.`, found {}", describe(&other)),
                        ));
                    }
                };
                let span = self.span(s, e);
                expr = Expr {
                    span: expr.span.to(span),
                    kind: ExprKind::Attr(Box::new(expr), name, span),
                };
            } else if self.eat("[")? {
                self.deeper(step)?;
                let index = self.expr()?;
                let end = self.expect("]", "to close the index")?;
                let span = expr.span.to(self.span(end - 1, end));
                expr = Expr {
                    span,
                    kind: ExprKind::Index(Box::new(expr), Box::new(index)),
                };
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, Diagnostic> {
        let (tok, start, end) = self.next()?;
        let span = self.span(start, end);
        let kind = match tok {
            Tok::Num(n) => ExprKind::Lit(Value::Number(n)),
            Tok::Str(s) => ExprKind::Lit(Value::String(s)),
            Tok::Ident(name) => match name.as_str() {
                "true" => ExprKind::Lit(Value::Bool(true)),
                "false" => ExprKind::Lit(Value::Bool(false)),
                "null" => ExprKind::Lit(Value::Null),
                _ if self.eat("(")? => {
                    let mut args = Vec::new();
                    if !self.eat(")")? {
                        loop {
                            args.push(self.expr()?);
                            if self.eat(")")? {
                                break;
                            }
                            self.expect(",", "between arguments")?;
                        }
                    }
                    let close = self.pos;
                    return Ok(Expr {
                        span: span.to(self.span(close - 1, close)),
                        kind: ExprKind::Call(name, span, args),
                    });
                }
                _ => ExprKind::Name(name),
            },
            Tok::Punct("(") => {
                let inner = self.expr()?;
                self.expect(")", "to close the parenthesis")?;
                return Ok(inner);
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                while !self.eat("]")? {
                    items.push(self.expr()?);
                    if !self.eat(",")? {
                        self.expect("]", "to close the list")?;
                        break;
                    }
                }
                ExprKind::List(items)
            }
            Tok::Punct("{") => {
                let mut entries = Vec::new();
                while !self.eat("}")? {
                    let (key, ks, ke) = self.next()?;
                    let key = match key {
                        Tok::Ident(k) | Tok::Str(k) => k,
                        other => {
                            return Err(self.error_at(
                                ks,
                                ke.max(ks + 1),
                                format!("expected a key, found {}", describe(&other)),
                            ));
                        }
                    };
                    if !self.eat("=")? {
                        self.expect(":", "after a key")?;
                    }
                    let value = self.expr()?;
                    entries.push(MapEntry {
                        key,
                        key_span: self.span(ks, ke),
                        value,
                    });
                    if !self.eat(",")? {
                        self.expect("}", "to close the map")?;
                        break;
                    }
                }
                ExprKind::Map(entries)
            }
            other => {
                return Err(self.error_at(
                    start,
                    end.max(start + 1).min(self.src.len().max(start)),
                    format!("expected a value, found {}", describe(&other)),
                ));
            }
        };
        let close = self.pos;
        Ok(Expr {
            span: self.span(start, close),
            kind,
        })
    }
}

fn binop(p: &str) -> Option<(BinOp, u8)> {
    Some(match p {
        "||" => (BinOp::Or, 1),
        "&&" => (BinOp::And, 2),
        "==" => (BinOp::Eq, 3),
        "!=" => (BinOp::Ne, 3),
        "<" => (BinOp::Lt, 4),
        "<=" => (BinOp::Le, 4),
        ">" => (BinOp::Gt, 4),
        ">=" => (BinOp::Ge, 4),
        "+" => (BinOp::Add, 5),
        "-" => (BinOp::Sub, 5),
        "*" => (BinOp::Mul, 6),
        "/" => (BinOp::Div, 6),
        "%" => (BinOp::Rem, 6),
        _ => return None,
    })
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(name) => format!("`{name}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::End => "the end of the string".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Sources};
    use std::path::Path;

    fn origin(text: &str) -> (Sources, StrOrigin) {
        let mut sources = Sources::default();
        let file: FileId = sources.add(Path::new("t"), "t".into(), format!("\"{text}\""));
        let whole = Span::new(file, 0..text.len() + 2);
        (
            sources,
            StrOrigin {
                whole,
                content_start: Some(1),
            },
        )
    }

    fn parse(text: &str) -> Result<Expr, Diagnostic> {
        let (_, o) = origin(text);
        parse_template(text, o)
    }

    #[test]
    fn nesting_past_the_bound_is_an_error_at_its_column_not_a_crash() {
        let deep = |open: &str, close: &str, n: usize| {
            format!("${{{}1{}}}", open.repeat(n), close.repeat(n))
        };
        for text in [
            deep("(", ")", 5000),
            deep("[", "]", 5000),
            deep("{a=", "}", 5000),
            deep("f(", ")", 5000),
            deep("-", "", 5000),
            deep("!", "", 5000),
            format!("${{1{}}}", "+1".repeat(10_000)),
            format!("${{x{}}}", ".a".repeat(10_000)),
            format!("${{x{}}}", "[0]".repeat(10_000)),
            format!("${{{}1{}}}", "true ? ".repeat(3000), " : 2".repeat(3000)),
        ] {
            let err = parse(&text).expect_err("too deep");
            assert!(err.message.contains("nested more than"), "{}", err.message);
        }
        // Deep, but within the bound, is fine.
        assert!(parse(&deep("(", ")", MAX_DEPTH / 2)).is_ok());
        assert!(parse(&format!("${{1{}}}", "+1".repeat(MAX_DEPTH / 2))).is_ok());
    }

    #[test]
    fn plain_string_is_a_literal() {
        let e = parse("hello").unwrap();
        assert_eq!(e.as_str(), Some("hello"));
    }

    #[test]
    fn escaped_dollar_brace_stays_literal() {
        assert_eq!(parse("a $${b}").unwrap().as_str(), Some("a ${b}"));
    }

    #[test]
    fn whole_interpolation_is_the_inner_expression() {
        let e = parse("${vpc.main.id}").unwrap();
        let t = e.as_traversal().unwrap();
        assert_eq!(t.root, "vpc");
        assert_eq!(t.names(), ["main", "id"]);
    }

    #[test]
    fn template_mixes_literals_and_interpolations() {
        let e = parse("aws+${each.key}@example.com").unwrap();
        match e.kind {
            ExprKind::Template(parts) => assert_eq!(parts.len(), 3),
            other => panic!("expected a template, got {other:?}"),
        }
    }

    #[test]
    fn precedence_binds_multiplication_tighter() {
        let e = parse("${1 + 2 * 3}").unwrap();
        match e.kind {
            ExprKind::Binary(BinOp::Add, _, rhs) => {
                assert!(matches!(rhs.kind, ExprKind::Binary(BinOp::Mul, _, _)))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn names_may_contain_hyphens() {
        let e = parse("${account.log-archive.id}").unwrap();
        assert_eq!(e.as_traversal().unwrap().names(), ["log-archive", "id"]);
    }

    #[test]
    fn calls_lists_maps_and_conditionals_parse() {
        parse(r#"${cidrsubnet(var.cidr, 8, count.index + 1)}"#).unwrap();
        parse(r#"${merge({a = 1, "b" = [1, 2,]}, local.x)}"#).unwrap();
        parse(r#"${var.x == "a" ? 1 : -2}"#).unwrap();
        parse(r#"${subnet.public["a"].id}"#).unwrap();
    }

    #[test]
    fn unclosed_interpolation_points_at_the_end() {
        let (sources, o) = origin("x ${var.a");
        let err = parse_template("x ${var.a", o).unwrap_err();
        assert!(err.message.contains("expected `}`"), "{}", err.message);
        assert_eq!(sources.location(err.primary.unwrap().0), "t:1:11");
    }

    #[test]
    fn bad_token_points_at_its_column() {
        let (sources, o) = origin("${var.a # b}");
        let err = parse_template("${var.a # b}", o).unwrap_err();
        assert!(
            err.message.contains("unexpected character `#`"),
            "{}",
            err.message
        );
        assert_eq!(sources.location(err.primary.unwrap().0), "t:1:10");
    }

    #[test]
    fn depends_on_entries_parse_as_references() {
        let (_, o) = origin("module.network");
        assert!(parse_reference("module.network", o).is_ok());
        assert!(parse_reference("module.network + 1", o).is_err());
    }
}
