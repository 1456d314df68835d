//! The syntax tree of configuration values and expressions.

use super::value::Value;
use crate::source::Span;

/// A configuration value or expression, with the span it was written at.
#[derive(Debug, Clone)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal: string, number, bool or null.
    Lit(Value),
    /// A string with interpolations, e.g. `"aws+${each.key}@example.com"`.
    Template(Vec<Part>),
    List(Vec<Expr>),
    /// A TOML table or an object constructor `{ k = v }`; keys keep their spans.
    Map(Vec<MapEntry>),
    /// The root name of a reference: `var`, `vpc`, `each`...
    Name(String),
    /// `expr.name`; the span is the name's.
    Attr(Box<Expr>, String, Span),
    /// `expr[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `name(args...)`; the span is the name's.
    Call(String, Span, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `cond ? then : else`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Part {
    Lit(String),
    Interp(Expr),
}

#[derive(Debug, Clone)]
pub struct MapEntry {
    pub key: String,
    pub key_span: Span,
    pub value: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// One step after the root of a reference, with the index expression not yet evaluated.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    Attr(&'a str, Span),
    Index(&'a Expr),
}

/// A reference as written: `vpc.main["a"].id` is root `vpc` with steps `.main`, `["a"]`, `.id`.
#[derive(Debug, Clone)]
pub struct Traversal<'a> {
    pub root: &'a str,
    pub root_span: Span,
    pub steps: Vec<Step<'a>>,
    /// The whole reference.
    pub span: Span,
}

impl<'a> Traversal<'a> {
    /// The leading attribute names, as far as they are plain names (`vpc.main.id` -> `["main", "id"]`).
    pub fn names(&self) -> Vec<&'a str> {
        self.steps
            .iter()
            .map_while(|s| {
                if let Step::Attr(n, _) = s {
                    Some(*n)
                } else {
                    None
                }
            })
            .collect()
    }

    /// The source text of the first `n` steps after the root, e.g. `organizational_unit.workloads`.
    pub fn path(&self, n: usize) -> String {
        let mut out = self.root.to_string();
        for step in self.steps.iter().take(n) {
            match step {
                Step::Attr(name, _) => {
                    out.push('.');
                    out.push_str(name);
                }
                Step::Index(_) => out.push_str("[...]"),
            }
        }
        out
    }
}

impl Expr {
    /// Reads this expression as a reference chain, if it is one (`a.b[c].d`).
    pub fn as_traversal(&self) -> Option<Traversal<'_>> {
        let mut steps = Vec::new();
        let mut cur = self;
        loop {
            match &cur.kind {
                ExprKind::Attr(base, name, span) => {
                    steps.push(Step::Attr(name, *span));
                    cur = base;
                }
                ExprKind::Index(base, index) => {
                    steps.push(Step::Index(index));
                    cur = base;
                }
                ExprKind::Name(root) => {
                    steps.reverse();
                    return Some(Traversal {
                        root,
                        root_span: cur.span,
                        steps,
                        span: self.span,
                    });
                }
                _ => return None,
            }
        }
    }

    /// Every reference in this expression, outermost first, for building the dependency graph.
    pub fn traversals(&self) -> Vec<Traversal<'_>> {
        let mut out = Vec::new();
        self.collect_traversals(&mut out);
        out
    }

    fn collect_traversals<'a>(&'a self, out: &mut Vec<Traversal<'a>>) {
        if let Some(t) = self.as_traversal() {
            for step in &t.steps {
                if let Step::Index(index) = step {
                    index.collect_traversals(out);
                }
            }
            out.push(t);
            return;
        }
        match &self.kind {
            ExprKind::Lit(_) | ExprKind::Name(_) => {}
            ExprKind::Template(parts) => {
                for p in parts {
                    if let Part::Interp(e) = p {
                        e.collect_traversals(out);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| e.collect_traversals(out)),
            ExprKind::Map(entries) => entries.iter().for_each(|e| e.value.collect_traversals(out)),
            ExprKind::Attr(base, _, _) => base.collect_traversals(out),
            ExprKind::Index(base, index) => {
                base.collect_traversals(out);
                index.collect_traversals(out);
            }
            ExprKind::Call(_, _, args) => args.iter().for_each(|e| e.collect_traversals(out)),
            ExprKind::Unary(_, e) => e.collect_traversals(out),
            ExprKind::Binary(_, a, b) => {
                a.collect_traversals(out);
                b.collect_traversals(out);
            }
            ExprKind::Cond(c, a, b) => {
                c.collect_traversals(out);
                a.collect_traversals(out);
                b.collect_traversals(out);
            }
        }
    }

    /// Every call of the function `name` in this expression, with its arguments.
    pub fn calls<'a>(&'a self, name: &str, out: &mut Vec<&'a [Expr]>) {
        match &self.kind {
            ExprKind::Call(n, _, args) => {
                if n == name {
                    out.push(args);
                }
                args.iter().for_each(|a| a.calls(name, out));
            }
            ExprKind::Lit(_) | ExprKind::Name(_) => {}
            ExprKind::Template(parts) => parts.iter().for_each(|p| {
                if let Part::Interp(e) = p {
                    e.calls(name, out)
                }
            }),
            ExprKind::List(items) => items.iter().for_each(|e| e.calls(name, out)),
            ExprKind::Map(entries) => entries.iter().for_each(|e| e.value.calls(name, out)),
            ExprKind::Attr(base, _, _) | ExprKind::Unary(_, base) => base.calls(name, out),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                a.calls(name, out);
                b.calls(name, out);
            }
            ExprKind::Cond(c, a, b) => {
                c.calls(name, out);
                a.calls(name, out);
                b.calls(name, out);
            }
        }
    }

    /// The literal string, if this expression is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Lit(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[MapEntry]> {
        match &self.kind {
            ExprKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A short description of what was written, for type errors in structural configuration.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            ExprKind::Lit(v) => v.type_name(),
            ExprKind::Template(_) => "string",
            ExprKind::List(_) => "list",
            ExprKind::Map(_) => "table",
            _ => "expression",
        }
    }
}
