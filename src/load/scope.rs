//! Stacks and modules: the declarations of one scope (resources, module instances, locals, outputs,
//! inputs), read from one or more TOML files and checked against the kind registry.

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{Expr, ExprKind, MapEntry, StrOrigin, Value, parse_reference};
use crate::schema::{self, Kind};
use crate::source::{Sources, Span};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Stack,
    Module,
}

/// Everything declared in one stack or module.
#[derive(Debug, Clone)]
pub struct ScopeDef {
    pub kind: ScopeKind,
    pub name: String,
    /// The folder `file()` paths are relative to when the call's own file is unknown.
    pub dir: PathBuf,
    pub resources: Vec<ResourceDecl>,
    pub modules: Vec<ModuleCall>,
    pub locals: Vec<Named>,
    pub outputs: Vec<Named>,
    /// Modules only.
    pub inputs: Vec<InputDecl>,
    /// Stacks only: stacks applied before this one.
    pub depends_on: Vec<(String, Span)>,
    /// Stacks only: `[[moved]]` entries, addresses relative to the stack.
    pub moved: Vec<MovedDecl>,
}

/// `[[moved]]`: a resource or module instance that now has another address. State follows; AWS is not
/// touched.
#[derive(Debug, Clone)]
pub struct MovedDecl {
    /// The old address, as written (`vpc.old`, `module.net["a"]`).
    pub from: String,
    pub from_span: Span,
    /// The new address, as written.
    pub to: String,
    pub to_span: Span,
    /// The `[[moved]]` table, where errors about the entry as a whole point.
    pub span: Span,
}

impl ScopeDef {
    pub fn resource(&self, kind: &str, name: &str) -> Option<usize> {
        self.resources
            .iter()
            .position(|r| r.kind.name == kind && r.name == name)
    }
}

/// A name bound to an expression: a local or an output.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub span: Span,
    pub expr: Expr,
}

/// `[kind.name]`: one resource declaration (several instances with `count` or `for_each`).
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub kind: &'static Kind,
    pub name: String,
    /// The name in the table header, where errors about the whole resource point.
    pub span: Span,
    /// Attributes as written, in order.
    pub attrs: Vec<MapEntry>,
    pub meta: Meta,
    pub prevent_destroy: bool,
    pub ignore_changes: Vec<(String, Span)>,
}

/// `[module.name]`: an instance of a module.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub span: Span,
    /// The module's folder under `modules/`.
    pub source: String,
    pub source_span: Span,
    pub inputs: Vec<MapEntry>,
    pub meta: Meta,
}

/// The arguments every resource and module instance accepts.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub account: Option<Expr>,
    pub region: Option<Expr>,
    /// References parsed from the `depends_on` strings.
    pub depends_on: Vec<Expr>,
}

/// `[input.name]` in a module.
#[derive(Debug, Clone)]
pub struct InputDecl {
    pub name: String,
    pub span: Span,
    pub ty: InputType,
    pub default: Option<Expr>,
    pub validations: Vec<Validation>,
}

/// A rule an input must satisfy, with the message shown when it does not.
#[derive(Debug, Clone)]
pub struct Validation {
    pub condition: Expr,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    String,
    Number,
    Bool,
    Cidr,
    List,
    Map,
    Any,
}

/// The module input types, by the name `type = "..."` gives them.
pub const INPUT_TYPES: &[(&str, InputType)] = &[
    ("string", InputType::String),
    ("number", InputType::Number),
    ("bool", InputType::Bool),
    ("cidr", InputType::Cidr),
    ("list", InputType::List),
    ("map", InputType::Map),
    ("any", InputType::Any),
];

impl InputType {
    pub fn name(self) -> &'static str {
        INPUT_TYPES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("any", |(n, _)| n)
    }
}

/// Top-level tables that are not resource kinds.
const STACK_KEYS: &[&str] = &["locals", "output", "module", "depends_on", "moved"];
const MODULE_KEYS: &[&str] = &["locals", "output", "module", "input"];
const META_KEYS: &[&str] = &[
    "count",
    "for_each",
    "account",
    "region",
    "depends_on",
    "lifecycle",
];

/// Builds a scope from the parsed files that make it up.
pub fn build_scope(
    kind: ScopeKind,
    name: &str,
    dir: PathBuf,
    files: Vec<Expr>,
    sources: &Sources,
    diags: &mut Diagnostics,
) -> ScopeDef {
    let mut scope = ScopeDef {
        kind,
        name: name.to_string(),
        dir,
        resources: vec![],
        modules: vec![],
        locals: vec![],
        outputs: vec![],
        inputs: vec![],
        depends_on: vec![],
        moved: vec![],
    };
    let mut seen = Seen::default();
    for file in files {
        let ExprKind::Map(entries) = file.kind else {
            continue;
        };
        for entry in entries {
            read_top_level(&mut scope, entry, sources, &mut seen, diags);
        }
    }
    check_moved(&scope.moved, diags);
    scope
}

/// Reads the `[[moved]]` array of tables of a stack.
fn read_moved(value: &Expr, into: &mut Vec<MovedDecl>, diags: &mut Diagnostics) {
    let example = "[[moved]] with from = \"vpc.old\" and to = \"vpc.main\"";
    let ExprKind::List(items) = &value.kind else {
        diags.push(
            Diagnostic::error("`moved` must be an array of tables")
                .at(value.span, format!("this is a {}", value.describe()))
                .help(format!("write each entry as {example}")),
        );
        return;
    };
    for item in items {
        let before = diags.0.len();
        let mut from = None;
        let mut to = None;
        for field in table(item, "moved", diags) {
            let slot = match field.key.as_str() {
                "from" => &mut from,
                "to" => &mut to,
                other => {
                    diags.push(
                        Diagnostic::error(format!("unknown key `{other}` in a [[moved]] entry"))
                            .at(field.key_span, "not recognised")
                            .suggest(other, ["from", "to"])
                            .note(None, "[[moved]] takes: from, to"),
                    );
                    continue;
                }
            };
            match field.value.as_str() {
                Some(text) => match crate::address::shape_relative(text) {
                    Ok(_) => *slot = Some((text.to_string(), field.value.span)),
                    Err(why) => diags.push(
                        Diagnostic::error(format!("invalid `{}` address in [[moved]]", field.key))
                            .at(field.value.span, why)
                            .help("addresses are relative to the stack: `vpc.main`, `module.net[\"a\"]`, `module.net[\"a\"].subnet.x`"),
                    ),
                },
                None => diags.push(
                    Diagnostic::error(format!("`{}` of a [[moved]] entry must be a plain string", field.key))
                        .at(field.value.span, format!("this is a {}", field.value.describe()))
                        .help("write the address as text, without ${...}"),
                ),
            }
        }
        match (from, to) {
            (Some((from, from_span)), Some((to, to_span))) => into.push(MovedDecl {
                from,
                from_span,
                to,
                to_span,
                span: item.span,
            }),
            _ if diags.0.len() > before => {} // an invalid `from` or `to`, reported above
            (f, _) => {
                let missing = if f.is_none() { "from" } else { "to" };
                diags.push(
                    Diagnostic::error(format!("a [[moved]] entry has no `{missing}`"))
                        .at(item.span, format!("missing `{missing}`"))
                        .help(format!(
                            "each entry names the old and the new address: {example}"
                        )),
                );
            }
        }
    }
}

/// Checks `[[moved]]` entries among themselves: same kind on both sides, no entry twice, no chains.
fn check_moved(moved: &[MovedDecl], diags: &mut Diagnostics) {
    use crate::address::{covers, shape_relative};
    for (i, m) in moved.iter().enumerate() {
        let (Ok(from), Ok(to)) = (shape_relative(&m.from), shape_relative(&m.to)) else {
            continue;
        };
        if m.from == m.to {
            diags.push(
                Diagnostic::error(format!("[[moved]] from `{}` to itself", m.from))
                    .at(m.to_span, "the same address")
                    .help("remove the entry"),
            );
            continue;
        }
        if from != to {
            diags.push(
                Diagnostic::error(format!(
                    "[[moved]] from {} to {}",
                    from.describe(),
                    to.describe()
                ))
                .at(m.to_span, format!("`{}` is {}", m.to, to.describe()))
                .note(Some(m.from_span), format!("`{}` is {}", m.from, from.describe()))
                .help("a move keeps what a resource is; to change its kind, remove the old one and declare the new one"),
            );
        }
        for other in &moved[..i] {
            if covers(&other.from, &m.from) || covers(&m.from, &other.from) {
                diags.push(
                    Diagnostic::error(format!("`{}` is moved twice", m.from))
                        .at(m.from_span, "moved again here")
                        .note(Some(other.from_span), "moved first here")
                        .help("keep one [[moved]] entry per old address"),
                );
            }
        }
        for (j, other) in moved.iter().enumerate() {
            if j != i && (covers(&other.from, &m.to) || covers(&m.to, &other.from)) {
                let cycle = covers(&other.to, &m.from) || covers(&m.from, &other.to);
                if cycle && j < i {
                    break; // reported with the earlier entry
                }
                diags.push(
                    Diagnostic::error(if cycle {
                        format!(
                            "[[moved]] entries form a cycle: `{}` -> `{}` -> `{}`",
                            m.from, m.to, other.to
                        )
                    } else {
                        format!(
                            "[[moved]] entries form a chain: `{}` -> `{}` -> `{}`",
                            m.from, m.to, other.to
                        )
                    })
                    .at(m.to_span, "moved on again")
                    .note(Some(other.from_span), "by this entry")
                    .help(if cycle {
                        "remove the entries that lead back".to_string()
                    } else {
                        format!(
                            "move straight to the final address: from = \"{}\", to = \"{}\"",
                            m.from, other.to
                        )
                    }),
                );
                break;
            }
        }
    }
}

/// First place each name was declared, to report duplicates across the files of one scope.
#[derive(Default)]
struct Seen(std::collections::HashMap<String, Span>);

impl Seen {
    fn check(&mut self, what: &str, key: String, span: Span, diags: &mut Diagnostics) -> bool {
        if let Some(first) = self.0.get(&key) {
            diags.push(
                Diagnostic::error(format!("duplicate {what} `{key}`"))
                    .at(span, "declared again here")
                    .note(Some(*first), "first declared here")
                    .help("each address must be unique; rename one of them"),
            );
            return false;
        }
        self.0.insert(key, span);
        true
    }
}

fn read_top_level(
    scope: &mut ScopeDef,
    entry: MapEntry,
    sources: &Sources,
    seen: &mut Seen,
    diags: &mut Diagnostics,
) {
    let key = entry.key.clone();
    let key = key.as_str();
    let reserved = if scope.kind == ScopeKind::Stack {
        STACK_KEYS
    } else {
        MODULE_KEYS
    };
    match key {
        "moved" if scope.kind == ScopeKind::Stack => read_moved(&entry.value, &mut scope.moved, diags),
        "moved" => diags.push(
            Diagnostic::error("[[moved]] entries belong in stacks")
                .at(entry.key_span, "not allowed in a module")
                .help("write the entry in the stack that calls the module, with the module's address: from = \"module.net.vpc.old\""),
        ),
        "depends_on" if scope.kind == ScopeKind::Stack => {
            for item in list_of_strings(&entry.value, "depends_on", diags) {
                scope.depends_on.push(item);
            }
        }
        "locals" => {
            for e in table(&entry.value, "locals", diags) {
                if valid_name(&e.key, e.key_span, diags) && seen.check("local", format!("local.{}", e.key), e.key_span, diags) {
                    scope.locals.push(Named { name: e.key, span: e.key_span, expr: e.value });
                }
            }
        }
        "output" => {
            for e in table(&entry.value, "output", diags) {
                if !valid_name(&e.key, e.key_span, diags) || !seen.check("output", format!("output.{}", e.key), e.key_span, diags) {
                    continue;
                }
                let mut value = None;
                for field in table(&e.value, &format!("output.{}", e.key), diags) {
                    match field.key.as_str() {
                        "value" => value = Some(field.value),
                        "description" => {}
                        other => diags.push(
                            Diagnostic::error(format!("unknown key `{other}` in output `{}`", e.key))
                                .at(field.key_span, "outputs have `value` and `description`")
                                .suggest(other, ["value", "description"]),
                        ),
                    }
                }
                match value {
                    Some(expr) => scope.outputs.push(Named { name: e.key, span: e.key_span, expr }),
                    None => diags.push(
                        Diagnostic::error(format!("output `{}` has no `value`", e.key))
                            .at(e.key_span, "missing `value`")
                            .help("write `value = \"${...}\"` in the output's table"),
                    ),
                }
            }
        }
        "input" if scope.kind == ScopeKind::Module => {
            for e in table(&entry.value, "input", diags) {
                // Kept even when named like a meta-argument, so that its uses are not reported too.
                if valid_name(&e.key, e.key_span, diags)
                    && seen.check("input", format!("input.{}", e.key), e.key_span, diags)
                {
                    check_not_meta(&e.key, e.key_span, diags);
                    scope.inputs.push(read_input(e, diags));
                }
            }
        }
        "input" => diags.push(
            Diagnostic::error("`input` tables belong in modules")
                .at(entry.key_span, "not allowed in a stack")
                .help("stacks read environment variables as ${var.NAME}; set them in the environment's [vars]"),
        ),
        "module" => {
            for e in table(&entry.value, "module", diags) {
                if valid_name(&e.key, e.key_span, diags) && seen.check("module", format!("module.{}", e.key), e.key_span, diags)
                    && let Some(call) = read_module_call(e, sources, diags) {
                        scope.modules.push(call);
                    }
            }
        }
        _ => match schema::kind(key) {
            Some(kind) => {
                for e in into_table(entry.value, key, diags) {
                    if valid_name(&e.key, e.key_span, diags) && seen.check("resource", format!("{key}.{}", e.key), e.key_span, diags)
                        && let Some(r) = read_resource(kind, e, sources, diags) {
                            scope.resources.push(r);
                        }
                }
            }
            None => {
                let candidates = schema::KINDS.iter().map(|k| k.name).chain(reserved.iter().copied());
                let d = Diagnostic::error(format!("unknown resource kind `{key}`")).at(entry.key_span, "not a kind landfall knows");
                let d = if crate::diag::did_you_mean(key, candidates.clone()).is_some() {
                    d.suggest(key, candidates)
                } else {
                    d.help("run `landfall kinds` to list the kinds and their attributes")
                };
                diags.push(d);
            }
        },
    }
}

fn read_resource(
    kind: &'static Kind,
    entry: MapEntry,
    sources: &Sources,
    diags: &mut Diagnostics,
) -> Option<ResourceDecl> {
    let address = format!("{}.{}", kind.name, entry.key);
    let fields = into_table(entry.value, &address, diags);
    let mut decl = ResourceDecl {
        kind,
        name: entry.key,
        span: entry.key_span,
        attrs: vec![],
        meta: Meta::default(),
        prevent_destroy: false,
        ignore_changes: vec![],
    };
    for field in fields {
        if META_KEYS.contains(&field.key.as_str()) {
            if field.key == "lifecycle" {
                read_lifecycle(&mut decl, field, diags);
            } else {
                read_meta(&mut decl.meta, field, sources, diags);
            }
            continue;
        }
        match kind.attr(&field.key) {
            Some(attr) if attr.computed => diags.push(
                Diagnostic::error(format!("`{}` of {} is set by AWS", field.key, kind.name))
                    .at(field.key_span, "computed attributes cannot be set")
                    .help(format!(
                        "read it instead, e.g. ${{{address}.{}}}",
                        field.key
                    )),
            ),
            Some(_) => decl.attrs.push(field),
            None => {
                let names = kind
                    .attrs
                    .iter()
                    .filter(|a| !a.computed)
                    .map(|a| a.name)
                    .chain(META_KEYS.iter().copied());
                diags.push(
                    Diagnostic::error(format!(
                        "unknown attribute `{}` on {}",
                        field.key, kind.name
                    ))
                    .at(field.key_span, format!("not an attribute of {}", kind.name))
                    .suggest(&field.key, names.clone())
                    .note(
                        None,
                        format!(
                            "{} takes: {}",
                            kind.name,
                            names.collect::<Vec<_>>().join(", ")
                        ),
                    ),
                );
            }
        }
    }
    for attr in kind.attrs.iter().filter(|a| a.required) {
        if !decl.attrs.iter().any(|f| f.key == attr.name) {
            diags.push(
                Diagnostic::error(format!(
                    "{address} is missing the required attribute `{}`",
                    attr.name
                ))
                .at(decl.span, format!("`{}` is required", attr.name))
                .help(format!(
                    "add `{} = ...` ({}: {})",
                    attr.name,
                    attr.ty.describe(),
                    attr.doc
                )),
            );
        }
    }
    Some(decl)
}

fn read_module_call(
    entry: MapEntry,
    sources: &Sources,
    diags: &mut Diagnostics,
) -> Option<ModuleCall> {
    let fields = table(&entry.value, &format!("module.{}", entry.key), diags);
    let mut meta = Meta::default();
    let mut source = None;
    let mut inputs = vec![];
    for field in fields {
        match field.key.as_str() {
            "source" => match field.value.as_str() {
                Some(s) => source = Some((s.to_string(), field.value.span)),
                None => diags.push(
                    Diagnostic::error("a module's `source` must be a plain string")
                        .at(field.value.span, "expressions are not allowed here")
                        .help("name a folder under modules/, e.g. source = \"baseline\""),
                ),
            },
            "lifecycle" => diags.push(
                Diagnostic::error("`lifecycle` belongs on resources, not module instances")
                    .at(field.key_span, "not allowed here")
                    .help("set it on the resources inside the module"),
            ),
            k if META_KEYS.contains(&k) => read_meta(&mut meta, field, sources, diags),
            _ => inputs.push(field),
        }
    }
    let Some((source, source_span)) = source else {
        diags.push(
            Diagnostic::error(format!("module `{}` has no `source`", entry.key))
                .at(entry.key_span, "missing `source`")
                .help("add source = \"NAME\" for the module in modules/NAME/"),
        );
        return None;
    };
    Some(ModuleCall {
        name: entry.key,
        span: entry.key_span,
        source,
        source_span,
        inputs,
        meta,
    })
}

fn read_meta(meta: &mut Meta, field: MapEntry, sources: &Sources, diags: &mut Diagnostics) {
    match field.key.as_str() {
        "count" => meta.count = Some(field.value),
        "for_each" => meta.for_each = Some(field.value),
        "account" => meta.account = Some(field.value),
        "region" => meta.region = Some(field.value),
        "depends_on" => {
            let ExprKind::List(items) = field.value.kind else {
                diags.push(
                    Diagnostic::error("`depends_on` must be a list of references")
                        .at(
                            field.value.span,
                            format!("this is a {}", field.value.describe()),
                        )
                        .help("e.g. depends_on = [\"vpc.main\", \"module.network\"]"),
                );
                return;
            };
            for item in items {
                // Written as plain strings: "vpc.main". The parser saw no `${`, so this is a literal.
                let parsed = match &item.kind {
                    ExprKind::Lit(Value::String(s)) => {
                        let raw = sources.slice(item.span);
                        let content_start =
                            (raw.len() == s.len() + 2).then_some(item.span.start + 1);
                        parse_reference(
                            s,
                            StrOrigin {
                                whole: item.span,
                                content_start,
                            },
                        )
                    }
                    _ if item.as_traversal().is_some() => Ok(item),
                    _ => Err(Diagnostic::error(
                        "`depends_on` entries are references written as strings",
                    )
                    .at(item.span, "not a reference")
                    .help("e.g. \"vpc.main\"")),
                };
                match parsed {
                    Ok(e) => meta.depends_on.push(e),
                    Err(d) => diags.push(d),
                }
            }
        }
        _ => unreachable!("only meta keys are passed"),
    }
}

fn read_lifecycle(decl: &mut ResourceDecl, field: MapEntry, diags: &mut Diagnostics) {
    for e in table(&field.value, "lifecycle", diags) {
        match e.key.as_str() {
            "prevent_destroy" => match e.value.kind {
                ExprKind::Lit(Value::Bool(b)) => decl.prevent_destroy = b,
                _ => diags.push(
                    Diagnostic::error("`prevent_destroy` must be true or false")
                        .at(e.value.span, "not a bool"),
                ),
            },
            "ignore_changes" => {
                for (name, span) in list_of_strings(&e.value, "ignore_changes", diags) {
                    if decl.kind.attr(&name).is_none_or(|a| a.computed) {
                        diags.push(
                            Diagnostic::error(format!(
                                "`ignore_changes` names `{name}`, which is not an attribute of {}",
                                decl.kind.name
                            ))
                            .at(span, "unknown attribute")
                            .suggest(
                                &name,
                                decl.kind
                                    .attrs
                                    .iter()
                                    .filter(|a| !a.computed)
                                    .map(|a| a.name),
                            ),
                        );
                    } else {
                        decl.ignore_changes.push((name, span));
                    }
                }
            }
            other => diags.push(
                Diagnostic::error(format!("unknown key `{other}` in lifecycle"))
                    .at(
                        e.key_span,
                        "lifecycle takes prevent_destroy and ignore_changes",
                    )
                    .suggest(other, ["prevent_destroy", "ignore_changes"]),
            ),
        }
    }
}

fn read_input(entry: MapEntry, diags: &mut Diagnostics) -> InputDecl {
    let mut input = InputDecl {
        name: entry.key.clone(),
        span: entry.key_span,
        ty: InputType::Any,
        default: None,
        validations: vec![],
    };
    for field in table(&entry.value, &format!("input.{}", entry.key), diags) {
        match field.key.as_str() {
            "type" => match field
                .value
                .as_str()
                .and_then(|t| INPUT_TYPES.iter().find(|(n, _)| *n == t))
            {
                Some((_, ty)) => input.ty = *ty,
                None => diags.push(
                    Diagnostic::error("unknown input type")
                        .at(field.value.span, "not a type")
                        .suggest(
                            field.value.as_str().unwrap_or(""),
                            INPUT_TYPES.iter().map(|(n, _)| *n),
                        )
                        .note(None, "types: string, number, bool, cidr, list, map, any"),
                ),
            },
            "default" => input.default = Some(field.value),
            "description" => {}
            "validation" => {
                let rules = match field.value.kind {
                    ExprKind::List(items) => items,
                    _ => vec![field.value],
                };
                for rule in rules {
                    let span = rule.span;
                    let mut condition = None;
                    let mut message = None;
                    for f in table(&rule, "validation", diags) {
                        match f.key.as_str() {
                            "condition" => condition = Some(f.value),
                            "message" => message = f.value.as_str().map(str::to_string),
                            other => diags.push(
                                Diagnostic::error(format!(
                                    "unknown key `{other}` in a validation rule"
                                ))
                                .at(f.key_span, "rules have `condition` and `message`"),
                            ),
                        }
                    }
                    match (condition, message) {
                        (Some(condition), Some(message)) => input.validations.push(Validation { condition, message }),
                        _ => diags.push(
                            Diagnostic::error("a validation rule needs a `condition` and a plain-string `message`")
                                .at(span, "incomplete rule"),
                        ),
                    }
                }
            }
            other => diags.push(
                Diagnostic::error(format!("unknown key `{other}` in input `{}`", entry.key))
                    .at(
                        field.key_span,
                        "inputs take type, default, description and validation",
                    )
                    .suggest(other, ["type", "default", "description", "validation"]),
            ),
        }
    }
    input
}

/// The entries of a table, or an error saying a table was expected.
pub fn table(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Vec<MapEntry> {
    match &expr.kind {
        ExprKind::Map(entries) => entries.clone(),
        _ => into_table(expr.clone(), what, diags),
    }
}

/// Like [`table`], taking the expression by value so large tables are not copied.
pub fn into_table(expr: Expr, what: &str, diags: &mut Diagnostics) -> Vec<MapEntry> {
    match expr.kind {
        ExprKind::Map(entries) => entries,
        _ => {
            diags.push(
                Diagnostic::error(format!("`{what}` must be a table"))
                    .at(expr.span, format!("this is a {}", expr.describe()))
                    .help(format!("write it as a [{what}.NAME] table")),
            );
            vec![]
        }
    }
}

/// A list of plain strings with their spans.
pub fn list_of_strings(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Vec<(String, Span)> {
    let ExprKind::List(items) = &expr.kind else {
        diags.push(
            Diagnostic::error(format!("`{what}` must be a list of strings"))
                .at(expr.span, format!("this is a {}", expr.describe())),
        );
        return vec![];
    };
    items
        .iter()
        .filter_map(|item| match item.as_str() {
            Some(s) => Some((s.to_string(), item.span)),
            None => {
                diags.push(
                    Diagnostic::error(format!("`{what}` must hold plain strings"))
                        .at(item.span, format!("this is a {}", item.describe())),
                );
                None
            }
        })
        .collect()
}

/// Names of resources, modules, locals and outputs: usable in references.
/// An input named like a meta-argument could never be set: in a module instance, `region = ...`
/// (or `count`, `source`...) is the meta-argument and the input would silently keep its default.
fn check_not_meta(name: &str, span: Span, diags: &mut Diagnostics) {
    if name != "source" && !META_KEYS.contains(&name) {
        return;
    }
    let mut d = Diagnostic::error(format!(
        "module input `{name}` is named like the meta-argument `{name}`"
    ))
    .at(span, "a module instance cannot set this input")
    .note(
        None,
        format!("in `[module.X]`, `{name} = ...` is the meta-argument, so the input would always keep its default"),
    );
    d = match name {
        "region" => d.help("rename the input (e.g. `az_region`), or drop it and read `${here.region}`: the region the module instance runs in"),
        _ => d.help(format!("rename the input, e.g. `{name}_value`, here and where instances set it")),
    };
    diags.push(d);
}

pub fn valid_name(name: &str, span: Span, diags: &mut Diagnostics) -> bool {
    let ok = super::is_plain_name(name);
    if !ok {
        diags.push(
            Diagnostic::error(format!("`{name}` is not a valid name"))
                .at(span, "invalid name")
                .help("names use letters, digits, `_` and `-`, and start with a letter or `_`"),
        );
    }
    ok
}
