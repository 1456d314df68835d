//! Resolution: evaluates an environment's stacks into resource instances with stable addresses, resolved
//! attributes (values AWS assigns marked unknown), accounts, regions and dependencies.
//!
//! Declarations are evaluated in dependency order (see [`order`]); `count` and `for_each` expand them into
//! instances; module instances evaluate the module's declarations in a scope of their own. Everything a
//! value was computed from is tracked, so each instance knows exactly which instances it depends on.

mod checks;
mod ctx;
mod logsec_checks;
mod order;
mod types;

use ctx::{Binding, Ctx, Literal};

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{self, Expr, InstanceId, Value};
use crate::load::{Loaded, ModuleCall, Project, ResourceDecl, ScopeDef};
use crate::schema::{self, Kind};
use crate::source::{Sources, Span};
use indexmap::IndexMap;
use order::{Decl, Node};
use std::collections::HashMap;

/// Root names of references that are not resource kinds.
pub const RESERVED_ROOTS: &[&str] = &[
    "var", "local", "input", "module", "stack", "remote", "each", "count", "output", "here",
];

/// Kinds AWS accepts only inside an organization (OUs, accounts, policies and their attachments,
/// delegated administrators, the last also needing trusted access): each waits for the environment's
/// `organization` without a written `depends_on`, unless the organization itself depends on it.
pub const NEEDS_ORGANIZATION: &[&str] = &[
    "organizational_unit",
    "account",
    "policy",
    "policy_attachment",
    "delegated_administrator",
];

/// One resource instance of the environment.
#[derive(Debug)]
pub struct Instance {
    /// Stable address: `stack.kind.name`, `stack.module.m["k"].kind.name[0]`...
    pub address: String,
    pub stack: String,
    pub kind: &'static Kind,
    /// The declaration's name in its table header.
    pub span: Span,
    /// Configured attributes with defaults filled in; computed ones are absent.
    /// Keyed by the schema's own attribute names (not a copy of each name per instance: at 26,000
    /// instances the copies were a fifth of the resolved configuration's memory).
    pub attrs: IndexMap<&'static str, Value>,
    /// Where each configured attribute was written.
    pub attr_spans: IndexMap<&'static str, Span>,
    /// The account it lives in: an id, unknown until its account exists, or null for the management account.
    pub account: Value,
    /// The region, for regional kinds.
    pub region: Option<String>,
    /// Instances that must exist first, in order of id.
    pub deps: Vec<InstanceId>,
    pub prevent_destroy: bool,
    pub ignore_changes: Vec<String>,
}

/// A resolved environment.
#[derive(Debug)]
pub struct Resolved {
    pub environment: String,
    pub stacks: Vec<String>,
    pub instances: Vec<Instance>,
    /// Stack-level `depends_on`: (stack, stack it waits for).
    pub stack_deps: Vec<(String, String)>,
    /// Outputs per stack, evaluated as far as known before apply.
    pub outputs: IndexMap<String, IndexMap<String, Value>>,
    /// The `[[moved]]` entries ([`moves`]): refresh follows them from the address a resource was
    /// tagged with at creation to the one it has now.
    pub moves: Vec<Move>,
    /// The dependency graph of `instances`, built once here and sealed (cycle-free).
    pub graph: crate::graph::ResourceGraph,
}

impl Resolved {
    /// Where a resource created (and tagged) at `address` is now, after the `[[moved]]` entries in
    /// the order written. Moves change state only, so a moved resource keeps its old address tag.
    pub fn moved_address(&self, address: &str) -> String {
        let mut now = address.to_string();
        for m in &self.moves {
            if let Some(to) = crate::address::rebase(&now, &m.from, &m.to) {
                now = to;
            }
        }
        now
    }
}

/// A `[[moved]]` entry: state at `from` (and under it) now belongs to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub from: String,
    pub to: String,
}

/// The `[[moved]]` entries of every stack, with full addresses, in the order written. They need no
/// evaluation, so they can be applied to state before anything is resolved from it; resolution checks
/// them against the configuration.
pub fn moves(stacks: &[ScopeDef]) -> Vec<Move> {
    stacks
        .iter()
        .flat_map(|s| {
            s.moved.iter().map(|m| Move {
                from: format!("{}.{}", s.name, m.from),
                to: format!("{}.{}", s.name, m.to),
            })
        })
        .collect()
}

/// Values that exist outside the configuration: what AWS assigned to resources already created (from
/// state, or from earlier changes of the same apply), and other environments' outputs (from their state).
/// Without them, such values are unknown until apply.
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// Computed attributes by resource address.
    pub attrs: HashMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Outputs by (environment, stack).
    pub remote_outputs: HashMap<(String, String), serde_json::Map<String, serde_json::Value>>,
    /// (environment, stack) pairs whose state was looked for and does not exist, with where it was
    /// looked for: a `remote.` reference to them is an error, not a value unknown until apply (the
    /// other environment may be misspelled, never applied, or its state lost).
    pub remote_missing: HashMap<(String, String), String>,
}

impl Known {
    /// Records what resolution reads of an existing resource of kind `kind`: its computed attributes
    /// (configured ones come from the configuration). Keeping only those, not a copy of every
    /// attribute in state, halves what a plan holds per resource. All of them for a kind this
    /// landfall does not know.
    pub fn learn(
        &mut self,
        address: &str,
        kind: &str,
        attrs: &serde_json::Map<String, serde_json::Value>,
    ) {
        let computed = |name: &str| {
            schema::kind(kind).is_none_or(|k| k.attr(name).is_some_and(|a| a.computed))
        };
        let known = self.attrs.entry(address.to_string()).or_default();
        for (name, value) in attrs.iter().filter(|(name, _)| computed(name)) {
            known.insert(name.clone(), value.clone());
        }
    }
}

/// Resolves a loaded environment. Returns every problem found, not just the first.
pub fn resolve(loaded: Loaded) -> (Sources, Result<Resolved, Diagnostics>) {
    resolve_with(loaded, &Known::default())
}

/// Resolves a loaded environment, with the values of resources that already exist.
pub fn resolve_with(loaded: Loaded, known: &Known) -> (Sources, Result<Resolved, Diagnostics>) {
    let Loaded {
        mut sources,
        project,
        env,
        stacks,
        modules,
        remotes,
        diags,
    } = loaded;
    let mut r = Resolver {
        sources: &mut sources,
        project: &project,
        env_region: env.region.clone(),
        stacks: &stacks,
        modules: &modules,
        remotes: &remotes,
        known,
        stack_names: env.stacks.iter().map(|(n, _)| n.clone()).collect(),
        vars: IndexMap::new(),
        var_exprs: &env.vars,
        instances: Vec::new(),
        frames: Vec::new(),
        module_orders: HashMap::new(),
        module_stack: Vec::new(),
        organizations: Vec::new(),
        diags,
    };
    for (name, expr) in &env.vars {
        match expr::eval(expr, &mut Literal) {
            Ok(v) => {
                r.vars.insert(name.clone(), v);
            }
            Err(d) => r.diags.push(d),
        }
    }
    r.run();
    let stack_deps = stacks
        .iter()
        .flat_map(|s| {
            s.depends_on
                .iter()
                .map(|(d, _)| (s.name.clone(), d.clone()))
        })
        .collect();
    let outputs = stacks
        .iter()
        .zip(&r.frames)
        .map(|(s, f)| {
            (
                s.name.clone(),
                f.outputs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.value.clone()))
                    .collect(),
            )
        })
        .collect();
    let Resolver {
        mut diags,
        instances,
        ..
    } = r;
    checks::check(&instances, &mut diags);
    checks::moved(&stacks, &instances, &mut diags);
    logsec_checks::check(&instances, &mut diags);
    if diags.has_errors() {
        diags.sort();
        return (sources, Err(diags));
    }
    let graph = match crate::graph::ResourceGraph::new(&instances) {
        Ok(g) => g,
        Err(e) => {
            diags.push(crate::diag::Diagnostic::error(e.to_string()));
            return (sources, Err(diags));
        }
    };
    let resolved = Resolved {
        graph,
        moves: moves(&stacks),
        environment: env.name.clone(),
        stacks: stacks.iter().map(|s| s.name.clone()).collect(),
        instances,
        stack_deps,
        outputs,
    };
    (sources, Ok(resolved))
}

/// A type error found at the place a value was written (`set`, when that is not where it is used), with
/// the use as a note.
fn used_at(d: Diagnostic, set: Option<&Expr>, used: &Expr) -> Diagnostic {
    if set.is_none() {
        return d;
    }
    let help = match &d.help {
        Some(h) => format!("{h} where the value is set: every use of it reads that value"),
        None => "fix the value where it is set: every use of it reads that value".into(),
    };
    d.note(Some(used.span), "used here").help(help)
}

/// A value and the instances it was computed from.
#[derive(Debug, Clone, Default)]
struct Tracked {
    value: Value,
    deps: Vec<InstanceId>,
}

/// What a declaration with `count` or `for_each` expanded into.
#[derive(Debug, Clone)]
enum Expansion<T> {
    Single(T),
    Count(Vec<T>),
    Keys(IndexMap<String, T>),
}

impl<T> Expansion<T> {
    fn all(&self) -> Box<dyn Iterator<Item = &T> + '_> {
        match self {
            Expansion::Single(t) => Box::new(std::iter::once(t)),
            Expansion::Count(v) => Box::new(v.iter()),
            Expansion::Keys(m) => Box::new(m.values()),
        }
    }
}

/// One evaluated module instance.
#[derive(Debug, Clone)]
struct ModuleResult {
    outputs: IndexMap<String, Tracked>,
    /// The instances created inside it (they are created contiguously).
    instances: std::ops::Range<u32>,
}

/// The evaluated declarations of one stack or module instance.
#[derive(Debug, Default)]
struct Frame {
    stack: usize,
    /// Address prefix: the stack name, then `.module.NAME[KEY]` per module level.
    prefix: String,
    inputs: IndexMap<String, Tracked>,
    /// Where each input's value was written: the module call's entry, its default, or what that entry
    /// passes on unchanged (an environment variable, an outer module's input).
    input_exprs: IndexMap<String, Expr>,
    locals: HashMap<usize, Tracked>,
    resources: HashMap<usize, Expansion<InstanceId>>,
    modules: HashMap<usize, Expansion<ModuleResult>>,
    outputs: IndexMap<String, Tracked>,
    /// Inherited from the module instance: the account and region of resources that set none.
    account: Option<Tracked>,
    region: Option<String>,
    /// Inherited `depends_on` of enclosing module instances.
    extra_deps: Vec<InstanceId>,
    /// Declarations in a dependency cycle: reading them yields unknown (the cycle is already reported).
    in_cycle: std::collections::HashSet<Decl>,
}

struct Resolver<'a> {
    sources: &'a mut Sources,
    project: &'a Project,
    env_region: String,
    stacks: &'a [ScopeDef],
    modules: &'a IndexMap<String, Option<ScopeDef>>,
    remotes: &'a IndexMap<String, Option<IndexMap<String, Vec<String>>>>,
    known: &'a Known,
    stack_names: Vec<String>,
    vars: IndexMap<String, Value>,
    /// The environment's `[vars]` as written: where a variable's value was set, for errors about it.
    var_exprs: &'a IndexMap<String, Expr>,
    instances: Vec<Instance>,
    /// One per stack, in the order of `stacks`.
    frames: Vec<Frame>,
    /// Evaluation order of each module's declarations, computed once per module.
    module_orders: HashMap<String, order::Order>,
    /// Modules being evaluated, to catch a module that instantiates itself.
    module_stack: Vec<String>,
    /// The `organization` instances evaluated so far: what [`NEEDS_ORGANIZATION`] kinds wait for.
    organizations: Vec<InstanceId>,
    diags: Diagnostics,
}

impl<'a> Resolver<'a> {
    fn stack_index(&self, name: &str) -> Option<usize> {
        self.stacks.iter().position(|s| s.name == name)
    }

    fn run(&mut self) {
        self.frames = self
            .stacks
            .iter()
            .enumerate()
            .map(|(i, s)| Frame {
                stack: i,
                prefix: s.name.clone(),
                ..Frame::default()
            })
            .collect();
        for (i, s) in self.stacks.iter().enumerate() {
            for (dep, span) in &s.depends_on {
                if self.stack_index(dep).is_none() {
                    self.diags.push(
                        Diagnostic::error(format!(
                            "stack `{}` depends on `{dep}`, which this environment does not deploy",
                            s.name
                        ))
                        .at(*span, "unknown stack")
                        .suggest(dep, self.stack_names.iter().map(String::as_str)),
                    );
                } else if self.stacks[i].name == *dep {
                    self.diags.push(
                        Diagnostic::error("a stack cannot depend on itself")
                            .at(*span, "remove this"),
                    );
                }
            }
        }
        let nodes: Vec<Node> = self
            .stacks
            .iter()
            .enumerate()
            .flat_map(|(i, s)| order::decls(s).map(move |d| (i, d)))
            .collect();
        let stacks = self.stacks;
        let refs = |(si, d): Node| -> Vec<(Node, Span)> {
            let scope = &stacks[si];
            let other = |name: &str| {
                stacks
                    .iter()
                    .position(|s| s.name == name)
                    .map(|i| (i, &stacks[i]))
            };
            let mut out = scope_refs(scope, d, other)
                .into_iter()
                .map(|(s, d, span)| ((s.unwrap_or(si), d), span))
                .collect::<Vec<_>>();
            // Stack-level depends_on: everything here waits for every resource of the other stack.
            for (dep, span) in &scope.depends_on {
                if let Some(di) = stacks.iter().position(|s| s.name == *dep) {
                    out.extend(
                        (0..stacks[di].resources.len()).map(|r| ((di, Decl::Resource(r)), *span)),
                    );
                }
            }
            out
        };
        // Implicit ordering: what needs the organization waits for it. Declarations the organizations
        // reach through references cannot wait (a cycle); no implicit edge leaves them, so none can form.
        let modules = self.modules;
        let needs_org = |(si, d): Node| match d {
            Decl::Resource(r) => NEEDS_ORGANIZATION.contains(&stacks[si].resources[r].kind.name),
            Decl::Module(m) => module_needs_org(modules, &stacks[si].modules[m].source, 0),
            _ => false,
        };
        let orgs: Vec<Node> = nodes
            .iter()
            .copied()
            .filter(|(si, d)| {
                matches!(d, Decl::Resource(r) if stacks[*si].resources[*r].kind.name == "organization")
            })
            .collect();
        let mut reached: std::collections::HashSet<Node> = orgs.iter().copied().collect();
        let mut todo = orgs.clone();
        while let Some(n) = todo.pop() {
            for (t, _) in refs(n) {
                if reached.insert(t) {
                    todo.push(t);
                }
            }
        }
        let all_refs = |n: Node| -> Vec<(Node, Span)> {
            let mut out = refs(n);
            if !reached.contains(&n) && needs_org(n) {
                let (si, d) = n;
                let span = match d {
                    Decl::Resource(r) => stacks[si].resources[r].span,
                    Decl::Module(m) => stacks[si].modules[m].span,
                    _ => unreachable!("only resources and modules need the organization"),
                };
                out.extend(orgs.iter().map(|o| (*o, span)));
            }
            out
        };
        let label = |(si, d): Node| format!("{}.{}", stacks[si].name, d.label(&stacks[si]));
        let ord = order::order(nodes, &all_refs, &label, &mut self.diags);
        for (si, d) in &ord.nodes {
            if ord.in_cycle.contains(&(*si, *d)) {
                self.frames[*si].in_cycle.insert(*d);
            }
        }
        for (si, d) in ord.nodes {
            let mut frame = std::mem::take(&mut self.frames[si]);
            self.eval_decl(&mut frame, &stacks[si], d);
            self.frames[si] = frame;
        }
    }

    /// The evaluation order of a module's declarations; cycles are reported once per module.
    fn module_order(&mut self, name: &str, def: &ScopeDef) -> Vec<Decl> {
        if !self.module_orders.contains_key(name) {
            let nodes = order::decls(def).map(|d| (0, d)).collect();
            let refs = |(_, d): Node| -> Vec<(Node, Span)> {
                scope_refs(def, d, |_| None::<(usize, &ScopeDef)>)
                    .into_iter()
                    .filter(|(s, _, _)| s.is_none())
                    .map(|(_, d, s)| ((0, d), s))
                    .collect()
            };
            let label = |(_, d): Node| format!("module {name}: {}", d.label(def));
            let ord = order::order(nodes, &refs, &label, &mut self.diags);
            self.module_orders.insert(name.to_string(), ord);
        }
        self.module_orders[name]
            .nodes
            .iter()
            .map(|(_, d)| *d)
            .collect()
    }

    fn eval_decl(&mut self, frame: &mut Frame, def: &'a ScopeDef, d: Decl) {
        match d {
            Decl::Local(i) => {
                let local = &def.locals[i];
                let mut cx = Ctx::new(self, frame, def);
                let value = cx.eval(&local.expr);
                let t = Tracked {
                    value: value.unwrap_or(Value::Unknown(None)),
                    deps: cx.deps,
                };
                frame.locals.insert(i, t);
            }
            Decl::Output(i) => {
                let out = &def.outputs[i];
                let mut cx = Ctx::new(self, frame, def);
                let value = cx.eval(&out.expr);
                let t = Tracked {
                    value: cx.materialize(value.unwrap_or(Value::Unknown(None))),
                    deps: cx.deps,
                };
                frame.outputs.insert(out.name.clone(), t);
            }
            Decl::Resource(i) => {
                if let Some(exp) = self.eval_resource(frame, def, &def.resources[i]) {
                    frame.resources.insert(i, exp);
                }
            }
            Decl::Module(i) => {
                if let Some(exp) = self.eval_module(frame, def, &def.modules[i]) {
                    frame.modules.insert(i, exp);
                }
            }
        }
    }

    /// Evaluates `count` / `for_each` into the instance keys, each with its `each`/`count` binding.
    fn expand(
        &mut self,
        frame: &Frame,
        def: &'a ScopeDef,
        meta: &crate::load::Meta,
        what: &str,
    ) -> Option<Expansion<Binding>> {
        match (&meta.count, &meta.for_each) {
            (Some(c), Some(_)) => {
                self.diags.push(
                    Diagnostic::error(format!("{what} sets both `count` and `for_each`"))
                        .at(c.span, "choose one")
                        .help("use count for N identical copies, for_each for one copy per key"),
                );
                None
            }
            (None, None) => Some(Expansion::Single(Binding::None)),
            (Some(c), None) => {
                let mut cx = Ctx::new(self, frame, def);
                let v = cx.eval(c)?;
                match v {
                    Value::Number(n) if n >= 0.0 && n.fract() == 0.0 && n <= 10_000.0 => Some(
                        Expansion::Count((0..n as usize).map(Binding::Count).collect()),
                    ),
                    Value::Unknown(_) => {
                        self.diags.push(unknown_expansion("count", c.span));
                        None
                    }
                    v => {
                        self.diags.push(
                            Diagnostic::error(format!(
                                "`count` must be a whole number from 0 to 10000, found {v}"
                            ))
                            .at(c.span, "invalid count"),
                        );
                        None
                    }
                }
            }
            (None, Some(f)) => {
                let mut cx = Ctx::new(self, frame, def);
                let v = cx.eval(f)?;
                let mut keys = IndexMap::new();
                match v {
                    Value::Map(map) => {
                        for (k, v) in *map {
                            keys.insert(k.clone(), Binding::Each(k, v));
                        }
                    }
                    Value::List(items) => {
                        for item in items {
                            match item {
                                Value::String(s) => {
                                    if keys.contains_key(&s) {
                                        self.diags.push(
                                            Diagnostic::error(format!(
                                                "`for_each` lists {s:?} twice"
                                            ))
                                            .at(f.span, "keys must be unique"),
                                        );
                                        return None;
                                    }
                                    keys.insert(
                                        s.clone(),
                                        Binding::Each(s.clone(), Value::String(s)),
                                    );
                                }
                                Value::Unknown(_) => {
                                    self.diags.push(unknown_expansion("for_each", f.span));
                                    return None;
                                }
                                other => {
                                    self.diags.push(
                                        Diagnostic::error(format!(
                                            "`for_each` over a list needs strings, found a {}",
                                            other.type_name()
                                        ))
                                        .at(f.span, "not a list of strings")
                                        .help("use a map to give each instance a key and a value"),
                                    );
                                    return None;
                                }
                            }
                        }
                    }
                    Value::Unknown(_) => {
                        self.diags.push(unknown_expansion("for_each", f.span));
                        return None;
                    }
                    other => {
                        self.diags.push(
                            Diagnostic::error(format!(
                                "`for_each` needs a map or a list of strings, found a {}",
                                other.type_name()
                            ))
                            .at(f.span, "invalid for_each"),
                        );
                        return None;
                    }
                }
                Some(Expansion::Keys(keys))
            }
        }
    }

    fn eval_resource(
        &mut self,
        frame: &Frame,
        def: &'a ScopeDef,
        decl: &'a ResourceDecl,
    ) -> Option<Expansion<InstanceId>> {
        let what = format!("{}.{}", decl.kind.name, decl.name);
        let exp = self.expand(frame, def, &decl.meta, &what)?;
        let make = |r: &mut Self, binding: Binding, suffix: String| -> InstanceId {
            let address = format!("{}.{}.{}{suffix}", frame.prefix, decl.kind.name, decl.name);
            let mut cx = Ctx::new(r, frame, def);
            cx.binding = binding;
            cx.deps.extend(frame.extra_deps.iter().copied());
            let mut attrs = IndexMap::new();
            let mut attr_spans = IndexMap::new();
            for entry in &decl.attrs {
                let Some(attr) = decl.kind.attr(&entry.key) else {
                    continue;
                };
                let Some(v) = cx.eval(&entry.value) else {
                    continue;
                };
                let set = cx.written_at(&entry.value);
                let at = set.unwrap_or(&entry.value);
                match types::check(cx.r.sources, v, &attr.ty, at, &entry.key) {
                    Ok(v) => {
                        let v = cx.materialize(v);
                        attrs.insert(attr.name, v);
                    }
                    Err(d) => cx.r.diags.push(used_at(d, set, &entry.value)),
                }
                attr_spans.insert(attr.name, entry.value.span);
            }
            for attr in decl.kind.attrs {
                if let (false, Some(d)) = (attrs.contains_key(attr.name), attr.default) {
                    attrs.insert(attr.name, types::default_value(d));
                }
            }
            if decl.kind.taggable && !cx.r.project.default_tags.is_empty() {
                let mut tags: IndexMap<String, Value> =
                    cx.r.project
                        .default_tags
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                if let Some(Value::Map(own)) = attrs.get("tags") {
                    tags.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                attrs.insert("tags", Value::map(tags));
            }
            // Built an entry at a time, the maps grew by doubling: a quarter of the resolved
            // configuration's memory was spare room (every instance lives for the whole run).
            attrs.shrink_to_fit();
            attr_spans.shrink_to_fit();
            if let Some(Value::Map(tags)) = attrs.get_mut("tags") {
                tags.shrink_to_fit();
            }
            let account = match &decl.meta.account {
                Some(e) => cx
                    .eval(e)
                    .map(|v| cx.account_value(v, e.span))
                    .unwrap_or(Value::Null),
                None => match &frame.account {
                    Some(t) => {
                        cx.deps.extend(t.deps.iter().copied());
                        t.value.clone()
                    }
                    None => Value::Null,
                },
            };
            let region = match &decl.meta.region {
                Some(e) => cx.eval(e).and_then(|v| cx.region_value(v, e.span)),
                None => frame.region.clone(),
            }
            .unwrap_or_else(|| cx.r.env_region.clone());
            for e in &decl.meta.depends_on {
                cx.depends_on(e);
            }
            let mut deps = std::mem::take(&mut cx.deps);
            // An id that reached this resource through `each.value` or a map still orders it after its owner.
            for v in attrs.values().chain([&account]) {
                unknown_origins(v, &mut deps);
            }
            // Organizations evaluated before this instance cannot depend on it: waiting for them is safe.
            if NEEDS_ORGANIZATION.contains(&decl.kind.name) {
                deps.extend(r.organizations.iter().copied());
            }
            deps.sort();
            deps.dedup();
            let id = InstanceId(r.instances.len() as u32);
            if decl.kind.name == "organization" {
                r.organizations.push(id);
            }
            r.instances.push(Instance {
                address,
                stack: r.stacks[frame.stack].name.clone(),
                kind: decl.kind,
                span: decl.span,
                attrs,
                attr_spans,
                account,
                region: (decl.kind.scope == schema::Scope::Regional).then_some(region),
                deps,
                prevent_destroy: decl.prevent_destroy,
                ignore_changes: decl.ignore_changes.iter().map(|(n, _)| n.clone()).collect(),
            });
            id
        };
        Some(match exp {
            Expansion::Single(b) => Expansion::Single(make(self, b, String::new())),
            Expansion::Count(bs) => Expansion::Count(
                bs.into_iter()
                    .enumerate()
                    .map(|(i, b)| make(self, b, format!("[{i}]")))
                    .collect(),
            ),
            Expansion::Keys(bs) => Expansion::Keys(
                bs.into_iter()
                    .map(|(k, b)| (k.clone(), make(self, b, format!("[{k:?}]"))))
                    .collect(),
            ),
        })
    }

    fn eval_module(
        &mut self,
        frame: &Frame,
        def: &'a ScopeDef,
        call: &'a ModuleCall,
    ) -> Option<Expansion<ModuleResult>> {
        let module = self.modules.get(&call.source)?.as_ref()?;
        if self.module_stack.contains(&call.source) {
            self.diags.push(
                Diagnostic::error(format!("module `{}` instantiates itself", call.source))
                    .at(call.source_span, "recursive module")
                    .note(
                        None,
                        format!(
                            "module chain: {} -> {}",
                            self.module_stack.join(" -> "),
                            call.source
                        ),
                    ),
            );
            return None;
        }
        for input in &call.inputs {
            if !module.inputs.iter().any(|i| i.name == input.key) {
                let known: Vec<&str> = module.inputs.iter().map(|i| i.name.as_str()).collect();
                self.diags.push(
                    Diagnostic::error(format!(
                        "module `{}` has no input `{}`",
                        call.source, input.key
                    ))
                    .at(input.key_span, "unknown input")
                    .suggest(&input.key, known.iter().copied())
                    .note(
                        None,
                        format!("its inputs: {}", expr::preview(known.iter().copied())),
                    ),
                );
            }
        }
        for input in &module.inputs {
            if input.default.is_none() && !call.inputs.iter().any(|i| i.key == input.name) {
                self.diags.push(
                    Diagnostic::error(format!(
                        "module `{}` needs the input `{}`",
                        call.source, input.name
                    ))
                    .at(call.span, format!("`{}` is not set", input.name))
                    .note(Some(input.span), "declared here without a default")
                    .help(format!(
                        "add `{} = ...` ({})",
                        input.name,
                        input.ty.name()
                    )),
                );
            }
        }
        let exp = self.expand(frame, def, &call.meta, &format!("module.{}", call.name))?;
        let order = self.module_order(&call.source, module);
        let make = |r: &mut Self, binding: Binding, suffix: String| -> Option<ModuleResult> {
            let mut child = Frame {
                stack: frame.stack,
                prefix: format!("{}.module.{}{suffix}", frame.prefix, call.name),
                region: frame.region.clone(),
                account: frame.account.clone(),
                extra_deps: frame.extra_deps.clone(),
                in_cycle: r.module_orders[&call.source]
                    .in_cycle
                    .iter()
                    .map(|(_, d)| *d)
                    .collect(),
                ..Frame::default()
            };
            let mut cx = Ctx::new(r, frame, def);
            cx.binding = binding;
            let mut ok = true;
            for decl in &module.inputs {
                let given = call.inputs.iter().find(|i| i.key == decl.name);
                let (value, at) = match (given, &decl.default) {
                    (Some(g), _) => (cx.eval(&g.value), &g.value),
                    (None, Some(d)) => (cx.eval(d), d),
                    (None, None) => {
                        ok = false;
                        continue;
                    }
                };
                let Some(value) = value else {
                    ok = false;
                    continue;
                };
                let set = cx.written_at(at);
                child
                    .input_exprs
                    .insert(decl.name.clone(), set.unwrap_or(at).clone());
                match types::check_input(value, decl.ty, set.unwrap_or(at), &decl.name) {
                    Ok(v) => {
                        child.inputs.insert(
                            decl.name.clone(),
                            Tracked {
                                value: v,
                                deps: std::mem::take(&mut cx.deps),
                            },
                        );
                    }
                    Err(d) => {
                        ok = false;
                        cx.r.diags.push(used_at(d, set, at));
                    }
                }
            }
            if let Some(e) = &call.meta.account
                && let Some(v) = cx.eval(e)
            {
                let value = cx.account_value(v, e.span);
                child.account = Some(Tracked {
                    value,
                    deps: std::mem::take(&mut cx.deps),
                });
            }
            if let Some(e) = &call.meta.region {
                child.region = cx.eval(e).and_then(|v| cx.region_value(v, e.span));
            }
            for e in &call.meta.depends_on {
                cx.depends_on(e);
            }
            child.extra_deps.extend(std::mem::take(&mut cx.deps));
            if !ok {
                return None;
            }
            // Validation rules see the inputs of this instance.
            for decl in &module.inputs {
                for rule in &decl.validations {
                    let mut vcx = Ctx::new(r, &child, module);
                    let verdict = vcx.eval(&rule.condition);
                    if let Some(other) = verdict
                        .as_ref()
                        .filter(|v| !matches!(v, Value::Bool(_) | Value::Unknown(_)))
                    {
                        // A rule that is not true or false would pass everything, silently.
                        r.diags.push(
                            Diagnostic::error(format!(
                                "the validation condition of input `{}` is a {}, not true or false",
                                decl.name,
                                other.type_name()
                            ))
                            .at(rule.condition.span, "must be true or false")
                            .help("write a comparison, e.g. `${length(input.x) > 0}`"),
                        );
                        ok = false;
                    }
                    if let Some(Value::Bool(false)) = verdict {
                        let at = call
                            .inputs
                            .iter()
                            .find(|i| i.key == decl.name)
                            .map_or(call.span, |i| i.value.span);
                        r.diags.push(
                            Diagnostic::error(format!(
                                "invalid value for input `{}`: {}",
                                decl.name, rule.message
                            ))
                            .at(
                                at,
                                format!("fails the validation of module `{}`", call.source),
                            )
                            .note(Some(rule.condition.span), "the rule")
                            .help("pass a value the module's validation accepts"),
                        );
                        ok = false;
                    }
                }
            }
            if !ok {
                return None;
            }
            let start = r.instances.len() as u32;
            r.module_stack.push(call.source.clone());
            for d in &order {
                r.eval_decl(&mut child, module, *d);
            }
            r.module_stack.pop();
            Some(ModuleResult {
                outputs: child.outputs,
                instances: start..r.instances.len() as u32,
            })
        };
        Some(match exp {
            Expansion::Single(b) => Expansion::Single(make(self, b, String::new())?),
            Expansion::Count(bs) => {
                let mut out = Vec::new();
                for (i, b) in bs.into_iter().enumerate() {
                    out.push(make(self, b, format!("[{i}]"))?);
                }
                Expansion::Count(out)
            }
            Expansion::Keys(bs) => {
                let mut out = IndexMap::new();
                for (k, b) in bs {
                    let m = make(self, b, format!("[{k:?}]"))?;
                    out.insert(k, m);
                }
                Expansion::Keys(out)
            }
        })
    }
}

/// Whether a module (or a module it instantiates) declares a kind that needs the organization.
fn module_needs_org(
    modules: &IndexMap<String, Option<ScopeDef>>,
    name: &str,
    depth: usize,
) -> bool {
    // Deeper than any sane nesting means a module that instantiates itself (reported elsewhere).
    let Some(Some(def)) = modules.get(name).filter(|_| depth < 16) else {
        return false;
    };
    def.resources
        .iter()
        .any(|r| NEEDS_ORGANIZATION.contains(&r.kind.name))
        || def
            .modules
            .iter()
            .any(|m| module_needs_org(modules, &m.source, depth + 1))
}

fn unknown_origins(v: &Value, out: &mut Vec<InstanceId>) {
    match v {
        Value::Unknown(Some(id)) => out.push(*id),
        Value::List(items) => items.iter().for_each(|i| unknown_origins(i, out)),
        Value::Map(map) => map.values().for_each(|i| unknown_origins(i, out)),
        _ => {}
    }
}

fn unknown_expansion(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(format!("`{what}` depends on values known only after apply"))
        .at(span, "must be known at plan time")
        .help(format!("{what} decides which resources exist: build it from variables, locals or names declared in configuration"))
}

/// The references a declaration makes: (other stack or None for this scope, declaration, span).
/// `other` finds a stack of the environment by name (inside modules there is none).
fn scope_refs<'s>(
    scope: &ScopeDef,
    d: Decl,
    other: impl Fn(&str) -> Option<(usize, &'s ScopeDef)>,
) -> Vec<(Option<usize>, Decl, Span)> {
    let exprs = d.exprs(scope);
    let (refs, accounts_in) = order::references(&exprs);
    let mut out = Vec::new();
    for t in &refs {
        let names = t.names();
        if t.root == "stack" {
            if let (Some(s), Some(root)) = (names.first(), names.get(1))
                && let Some((si, target_scope)) = other(s)
                && let Some(target) = order::target(target_scope, root, &names[2..])
            {
                out.push((Some(si), target, t.span));
            }
        } else if let Some(target) = order::target(scope, t.root, &names) {
            out.push((None, target, t.span));
        }
    }
    for t in &accounts_in {
        let names = t.names();
        if t.root != "stack" {
            out.extend(order::accounts_in_targets(scope).map(|d| (None, d, t.span)));
        } else if let Some((si, target_scope)) = names.first().and_then(|s| other(s)) {
            out.extend(order::accounts_in_targets(target_scope).map(|d| (Some(si), d, t.span)));
        }
    }
    out
}

/// A default as shown by `landfall kinds`.
pub fn default_display(d: schema::Default) -> String {
    types::default_value(d).to_string()
}

#[cfg(test)]
mod tests;
