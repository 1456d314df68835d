//! Loading: reads `landfall.toml`, one environment (with its includes merged), the stacks it deploys and
//! the modules they use, into typed declarations that keep the span of every value. Nothing is evaluated
//! here; that is the resolver's job.

mod scope;
mod toml;

pub use scope::{
    INPUT_TYPES, InputDecl, InputType, Meta, ModuleCall, MovedDecl, Named, ResourceDecl, ScopeDef,
    ScopeKind, Validation, list_of_strings, table,
};

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{Expr, ExprKind, MapEntry, Value};
use crate::source::{FileId, Sources, Span};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// Project-wide settings from `landfall.toml`.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub name: String,
    pub home_region: String,
    /// The role assumed in member accounts by commands that change them (apply, destroy, import).
    pub access_role: String,
    /// The read-only role `plan` assumes in member accounts; `None`: plan assumes `access_role`.
    pub plan_role: Option<String>,
    /// Concurrent changes during apply.
    pub parallelism: usize,
    /// How long an account creation may take before apply stops waiting (it resumes next run).
    pub account_creation_timeout: std::time::Duration,
    /// How long the first call into a member account waits for its access role to be assumable.
    pub access_role_timeout: std::time::Duration,
    /// Merged into the tags of every taggable resource.
    pub default_tags: IndexMap<String, String>,
    /// `[backend]`, before environment overrides.
    backend: Vec<MapEntry>,
}

/// One environment, its includes merged.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub file: FileId,
    pub region: String,
    /// The stacks it deploys, in the order listed.
    pub stacks: Vec<(String, Span)>,
    /// `[vars]`, each with the span of the file that set it last.
    pub vars: IndexMap<String, Expr>,
    /// `[backend]` of landfall.toml with the environment's overrides on top.
    pub backend: IndexMap<String, Expr>,
}

/// Everything read for one environment.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sources: Sources,
    pub project: Project,
    pub env: Environment,
    /// The environment's stacks, in the order listed.
    pub stacks: Vec<ScopeDef>,
    /// Modules by folder name; `None` when the folder could not be read.
    pub modules: IndexMap<String, Option<ScopeDef>>,
    /// Other environments named by `remote.ENV.STACK.OUTPUT`: their stacks and, per stack, its outputs.
    pub remotes: IndexMap<String, Option<IndexMap<String, Vec<String>>>>,
    /// Problems found while loading that do not stop resolution (unknown attributes, missing ones...).
    pub diags: Diagnostics,
}

/// Why nothing could be loaded at all (as opposed to problems in the files, which are diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no landfall.toml in {0} or any folder above it")]
    NoProject(PathBuf),
    #[error("environment `{name}` not found: there is no {path}")]
    NoEnvironment {
        name: String,
        path: String,
        known: Vec<String>,
    },
    /// An environment name that is not a plain name: it becomes a folder of state (`.landfall/state/ENV`,
    /// an S3 prefix), so `..` or `/` would read or write outside it.
    #[error(
        "`{0}` is not a valid environment name: use letters, digits, `_` and `-`, starting with a letter or `_`"
    )]
    BadEnvironmentName(String),
    #[error("configuration has errors")]
    Invalid(Sources, Diagnostics),
}

/// Whether `name` may name an environment or a stack: a plain name, never a path.
pub fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Finds the project root: `dir` or the nearest parent holding `landfall.toml`.
pub fn find_root(dir: &Path) -> Result<PathBuf, LoadError> {
    dir.ancestors()
        .find(|d| d.join("landfall.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| LoadError::NoProject(dir.to_path_buf()))
}

/// The environments of a project: folders under `environments/` with an `env.toml`.
pub fn environment_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("environments"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("env.toml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// The stacks of a project: `stacks/NAME.toml` files and `stacks/NAME/` folders.
pub fn stack_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = folder_entries(&root.join("stacks"))
        .into_iter()
        .filter(|n| is_plain_name(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `[backend]` table of environment `env` (its includes merged over `landfall.toml`'s), and the
/// project's home region: what reading that environment's state takes, without loading its stacks.
pub fn environment_backend(
    root: &Path,
    env: &str,
) -> Result<(IndexMap<String, Expr>, String), LoadError> {
    if !is_plain_name(env) {
        return Err(LoadError::BadEnvironmentName(env.to_string()));
    }
    let env_path = root.join("environments").join(env).join("env.toml");
    if !env_path.is_file() {
        return Err(LoadError::NoEnvironment {
            name: env.to_string(),
            path: format!("environments/{env}/env.toml"),
            known: environment_names(root),
        });
    }
    let mut l = Loader {
        root: root.to_path_buf(),
        sources: Sources::default(),
        diags: Diagnostics::default(),
        incomplete: false,
    };
    let project = l.project();
    let environment = l.environment(env, &env_path, &project);
    if l.diags.has_errors() {
        return Err(LoadError::Invalid(l.sources, l.diags));
    }
    Ok((environment.backend, project.home_region))
}

/// Loads the project at `root` and the environment `env`.
pub fn load(root: &Path, env: &str) -> Result<Loaded, LoadError> {
    if !is_plain_name(env) {
        return Err(LoadError::BadEnvironmentName(env.to_string()));
    }
    let env_path = root.join("environments").join(env).join("env.toml");
    if !env_path.is_file() {
        return Err(LoadError::NoEnvironment {
            name: env.to_string(),
            path: format!("environments/{env}/env.toml"),
            known: environment_names(root),
        });
    }
    let mut l = Loader {
        root: root.to_path_buf(),
        sources: Sources::default(),
        diags: Diagnostics::default(),
        incomplete: false,
    };
    let project = l.project();
    let env = l.environment(env, &env_path, &project);
    let stacks = env
        .stacks
        .iter()
        .filter_map(|(name, span)| l.stack(name, Some(*span)))
        .collect::<Vec<_>>();
    let mut modules = IndexMap::new();
    let mut pending: Vec<(String, Span)> = stacks
        .iter()
        .flat_map(|s| s.modules.iter().map(|m| (m.source.clone(), m.source_span)))
        .collect();
    while let Some((name, span)) = pending.pop() {
        if modules.contains_key(&name) {
            continue;
        }
        let module = l.module(&name, span);
        if let Some(m) = &module {
            pending.extend(m.modules.iter().map(|c| (c.source.clone(), c.source_span)));
        }
        modules.insert(name, module);
    }
    let remotes = l.remotes(&stacks, &modules);
    let Loader {
        sources,
        diags,
        incomplete,
        ..
    } = l;
    // Syntax errors leave declarations out; resolving the rest would only add confusing follow-on errors.
    if incomplete && diags.has_errors() {
        return Err(LoadError::Invalid(sources, diags));
    }
    Ok(Loaded {
        diags,
        sources,
        project,
        env,
        stacks,
        modules,
        remotes,
    })
}

struct Loader {
    root: PathBuf,
    sources: Sources,
    diags: Diagnostics,
    /// A file could not be read or parsed, so some declarations are missing.
    incomplete: bool,
}

impl Loader {
    /// Reads and parses one TOML file; `None` (with diagnostics) when it cannot.
    fn read(&mut self, path: &Path, cause: Option<Span>) -> Option<Expr> {
        let file = if let Some(id) = self.sources.find(path) {
            id
        } else {
            let text = match std::fs::read(path).map(String::from_utf8) {
                Ok(Ok(t)) => t,
                // Named by the file and the place of the first byte that is not UTF-8, not by the
                // line that led here (which is only a note).
                Ok(Err(e)) => {
                    self.incomplete = true;
                    let bytes = e.as_bytes();
                    let at = e.utf8_error().valid_up_to();
                    let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
                    let column = 1 + at
                        - bytes[..at]
                            .iter()
                            .rposition(|b| *b == b'\n')
                            .map_or(0, |nl| nl + 1);
                    let mut d = Diagnostic::error(format!(
                        "{}:{line}:{column}: not UTF-8 text (byte {at} is 0x{:02x}); configuration files are UTF-8 TOML",
                        self.display(path),
                        bytes[at]
                    ))
                    .help("save the file as UTF-8, or remove it if it is not configuration");
                    if let Some(span) = cause {
                        d = d.note(Some(span), "read because of this");
                    }
                    self.diags.push(d);
                    return None;
                }
                Err(e) => {
                    self.incomplete = true;
                    let mut d =
                        Diagnostic::error(format!("cannot read {}: {e}", self.display(path)))
                            .help("check the path (relative to the file that names it) and that the file can be read");
                    if let Some(span) = cause {
                        d = d.at(span, "needed here");
                    }
                    self.diags.push(d);
                    return None;
                }
            };
            let display = self.display(path);
            self.sources.add(path, display, text)
        };
        let before = self.diags.0.len();
        let doc = toml::parse_file(&self.sources, file, &mut self.diags);
        if doc.is_none() || self.diags.0.len() > before {
            self.incomplete = true;
        }
        doc
    }

    fn display(&self, path: &Path) -> String {
        let path = crate::source::clean(path);
        path.strip_prefix(&self.root)
            .unwrap_or(&path)
            .display()
            .to_string()
    }

    fn project(&mut self) -> Project {
        let path = self.root.join("landfall.toml");
        let mut project = Project {
            root: self.root.clone(),
            name: String::new(),
            home_region: String::new(),
            access_role: "OrganizationAccountAccessRole".into(),
            plan_role: None,
            parallelism: 10,
            account_creation_timeout: crate::aws::Options::DEFAULT_ACCOUNT_CREATION_TIMEOUT,
            access_role_timeout: crate::aws::Options::DEFAULT_ACCESS_ROLE_TIMEOUT,
            default_tags: IndexMap::new(),
            backend: vec![],
        };
        let Some(doc) = self.read(&path, None) else {
            return project;
        };
        let mut seen_project = false;
        for entry in table(&doc, "landfall.toml", &mut self.diags) {
            match entry.key.as_str() {
                "project" => {
                    seen_project = true;
                    for f in table(&entry.value, "project", &mut self.diags) {
                        match f.key.as_str() {
                            "name" => project.name = self.plain_string(&f.value),
                            "home_region" => project.home_region = self.region(&f.value),
                            _ => self.unknown_key(&f, "project", &["name", "home_region"]),
                        }
                    }
                    if project.name.is_empty() || project.home_region.is_empty() {
                        self.diags.push(
                            Diagnostic::error("[project] needs `name` and `home_region`")
                                .at(entry.key_span, "incomplete")
                                .help("e.g. name = \"acme\" and home_region = \"eu-west-1\""),
                        );
                    }
                }
                "defaults" => {
                    for f in table(&entry.value, "defaults", &mut self.diags) {
                        match f.key.as_str() {
                            "access_role" => project.access_role = self.role_name(&f.value),
                            "plan_role" => project.plan_role = Some(self.role_name(&f.value)),
                            "parallelism" => match f.value.kind {
                                ExprKind::Lit(Value::Number(n)) if n >= 1.0 && n.fract() == 0.0 => {
                                    project.parallelism = n as usize
                                }
                                _ => self.diags.push(
                                    Diagnostic::error(
                                        "`parallelism` must be a whole number of at least 1",
                                    )
                                    .at(f.value.span, "invalid"),
                                ),
                            },
                            "account_creation_timeout" => {
                                if let Some(d) = self.duration(&f.value) {
                                    project.account_creation_timeout = d;
                                }
                            }
                            "access_role_timeout" => {
                                if let Some(d) = self.duration(&f.value) {
                                    project.access_role_timeout = d;
                                }
                            }
                            "tags" => {
                                for t in table(&f.value, "defaults.tags", &mut self.diags) {
                                    let v = self.plain_string(&t.value);
                                    project.default_tags.insert(t.key, v);
                                }
                            }
                            _ => self.unknown_key(
                                &f,
                                "defaults",
                                &[
                                    "access_role",
                                    "plan_role",
                                    "parallelism",
                                    "account_creation_timeout",
                                    "access_role_timeout",
                                    "tags",
                                ],
                            ),
                        }
                    }
                }
                "backend" => project.backend = table(&entry.value, "backend", &mut self.diags),
                _ => self.unknown_key(&entry, "landfall.toml", &["project", "defaults", "backend"]),
            }
        }
        if !seen_project {
            self.diags.push(
                Diagnostic::error("landfall.toml has no [project] table")
                    .at(doc.span.sub(0, 0), "expected [project]")
                    .help("add [project] with name and home_region"),
            );
        }
        project
    }

    /// A region name, checked against the known AWS regions.
    fn region(&mut self, e: &Expr) -> String {
        let name = self.plain_string(e);
        if !name.is_empty() && !crate::schema::is_region(&name) {
            self.diags.push(
                Diagnostic::error(format!("unknown AWS region {name:?}"))
                    .at(e.span, "not a region")
                    .suggest(&name, crate::schema::region_names()),
            );
        }
        name
    }

    /// An IAM role name (no path, no ARN): landfall builds `arn:aws:iam::ACCOUNT:role/NAME` from it.
    fn role_name(&mut self, e: &Expr) -> String {
        let name = self.plain_string(e);
        if !name.is_empty() && !crate::schema::is_role_name(&name) {
            self.diags.push(
                Diagnostic::error(format!("`{name}` is not an IAM role name"))
                    .at(e.span, "invalid")
                    .help(
                        "write the role's name only (no ARN or path): 1-64 letters, digits or \
                         any of + = , . @ _ -, e.g. \"landfall-plan\"",
                    ),
            );
        }
        name
    }

    /// A duration written the way people write them: `"90s"`, `"45m"`, `"1h 30m"`.
    fn duration(&mut self, e: &Expr) -> Option<std::time::Duration> {
        let text = self.plain_string(e);
        match humantime::parse_duration(&text) {
            Ok(d) if !d.is_zero() => Some(d),
            _ if text.is_empty() => None, // plain_string reported it
            _ => {
                self.diags.push(
                    Diagnostic::error(format!("`{text}` is not a duration"))
                        .at(e.span, "invalid")
                        .help("write a positive duration such as \"90s\", \"45m\" or \"1h 30m\""),
                );
                None
            }
        }
    }

    fn plain_string(&mut self, e: &Expr) -> String {
        match e.as_str() {
            Some(s) => s.to_string(),
            None => {
                self.diags.push(
                    Diagnostic::error("expected a plain string")
                        .at(e.span, format!("this is a {}", e.describe())),
                );
                String::new()
            }
        }
    }

    fn unknown_key(&mut self, entry: &MapEntry, within: &str, known: &[&str]) {
        self.diags.push(
            Diagnostic::error(format!("unknown key `{}` in {within}", entry.key))
                .at(entry.key_span, "not recognised")
                .suggest(&entry.key, known.iter().copied())
                .note(None, format!("{within} takes: {}", known.join(", "))),
        );
    }

    fn environment(&mut self, name: &str, path: &Path, project: &Project) -> Environment {
        let mut chain = Vec::new();
        let merged = self.merged(path, None, &mut chain);
        let file = self
            .sources
            .find(path)
            .expect("the environment file was read");
        let mut env = Environment {
            name: name.to_string(),
            file,
            region: project.home_region.clone(),
            stacks: vec![],
            vars: IndexMap::new(),
            backend: project
                .backend
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
        };
        let mut saw_stacks = false;
        for entry in merged {
            match entry.key.as_str() {
                "include" => {}
                "stacks" => {
                    saw_stacks = true;
                    env.stacks = list_of_strings(&entry.value, "stacks", &mut self.diags);
                }
                "region" => env.region = self.region(&entry.value),
                "vars" => {
                    env.vars = table(&entry.value, "vars", &mut self.diags)
                        .into_iter()
                        .map(|e| (e.key, e.value))
                        .collect()
                }
                "backend" => {
                    for e in table(&entry.value, "backend", &mut self.diags) {
                        env.backend.insert(e.key, e.value);
                    }
                }
                _ => self.unknown_key(
                    &entry,
                    "an environment file",
                    &["include", "stacks", "region", "vars", "backend"],
                ),
            }
        }
        // A file that could not be parsed may well hold the list: its own error says what is wrong.
        if !saw_stacks && !self.incomplete {
            self.diags.push(
                Diagnostic::error(format!("environment `{name}` deploys no stacks"))
                    .at(
                        Span::new(file, 0..0),
                        "no `stacks` list here or in the files it includes",
                    )
                    .help("add stacks = [\"NAME\", ...], naming files under stacks/"),
            );
        }
        env
    }

    /// Reads an environment file and everything it includes, merged by the documented rule: includes first,
    /// in order, each merged depth-first; the including file on top; tables merge key by key, anything else
    /// is replaced whole.
    fn merged(
        &mut self,
        path: &Path,
        cause: Option<Span>,
        chain: &mut Vec<PathBuf>,
    ) -> Vec<MapEntry> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(pos) = chain.iter().position(|p| *p == canonical) {
            let cycle: Vec<String> = chain[pos..]
                .iter()
                .chain([&canonical])
                .map(|p| self.display(p))
                .collect();
            let mut d = Diagnostic::error(format!("include cycle: {}", cycle.join(" -> ")));
            if let Some(span) = cause {
                d = d.at(span, "includes a file that includes this one");
            }
            self.diags.push(d.help("remove one of the includes"));
            return vec![];
        }
        let Some(doc) = self.read(path, cause) else {
            return vec![];
        };
        chain.push(canonical);
        let entries = table(&doc, "environment file", &mut self.diags);
        let mut merged: Vec<MapEntry> = Vec::new();
        if let Some(include) = entries.iter().find(|e| e.key == "include") {
            let dir = path.parent().unwrap_or(Path::new("."));
            for (rel, span) in list_of_strings(&include.value, "include", &mut self.diags) {
                let inc = self.merged(&dir.join(&rel), Some(span), chain);
                merge_entries(&mut merged, inc);
            }
        }
        merge_entries(&mut merged, entries);
        chain.pop();
        merged
    }

    /// Reads `stacks/NAME.toml`, or every `*.toml` in `stacks/NAME/`.
    fn stack(&mut self, name: &str, cause: Option<Span>) -> Option<ScopeDef> {
        if !is_plain_name(name) {
            // A stack's name becomes its state's file name (or S3 key): never a path.
            let mut d = Diagnostic::error(format!("`{name}` is not a valid stack name"))
                .help("stack names use letters, digits, `_` and `-`, and start with a letter or `_`; a stack in a folder is `stacks/NAME/` with NAME listed");
            if let Some(span) = cause {
                d = d.at(span, "names a path, not a stack");
            }
            self.diags.push(d);
            return None;
        }
        let file = self.root.join("stacks").join(format!("{name}.toml"));
        let dir = self.root.join("stacks").join(name);
        let paths = if file.is_file() {
            vec![file]
        } else if dir.is_dir() {
            toml_files(&dir)
        } else {
            let known = folder_entries(&self.root.join("stacks"));
            let mut d = Diagnostic::error(format!("stack `{name}` not found"))
                .help(format!("create stacks/{name}.toml or stacks/{name}/"))
                .suggest(name, known.iter().map(String::as_str));
            if let Some(span) = cause {
                d = d.at(span, "no such stack");
            }
            self.diags.push(d);
            return None;
        };
        let docs = paths.iter().filter_map(|p| self.read(p, cause)).collect();
        Some(scope::build_scope(
            ScopeKind::Stack,
            name,
            self.root.join("stacks"),
            docs,
            &self.sources,
            &mut self.diags,
        ))
    }

    fn module(&mut self, name: &str, cause: Span) -> Option<ScopeDef> {
        let dir = self.root.join("modules").join(name);
        if !dir.is_dir() {
            let known = folder_entries(&self.root.join("modules"));
            self.diags.push(
                Diagnostic::error(format!("module `{name}` not found"))
                    .at(cause, format!("there is no modules/{name}/"))
                    .suggest(name, known.iter().map(String::as_str)),
            );
            return None;
        }
        let docs = toml_files(&dir)
            .iter()
            .filter_map(|p| self.read(p, Some(cause)))
            .collect();
        Some(scope::build_scope(
            ScopeKind::Module,
            name,
            dir,
            docs,
            &self.sources,
            &mut self.diags,
        ))
    }

    /// Reads the environments that `remote.ENV...` references name, enough to check the references offline:
    /// the stacks each deploys and the outputs each stack declares.
    fn remotes(
        &mut self,
        stacks: &[ScopeDef],
        modules: &IndexMap<String, Option<ScopeDef>>,
    ) -> IndexMap<String, Option<IndexMap<String, Vec<String>>>> {
        let mut names: Vec<String> = Vec::new();
        let scopes = stacks.iter().chain(modules.values().flatten());
        for scope in scopes {
            for_each_expr(scope, &mut |e: &Expr| {
                for t in e.traversals() {
                    if t.root == "remote"
                        && let Some(env) = t.names().first()
                        && !names.iter().any(|n| n == env)
                    {
                        names.push(env.to_string());
                    }
                }
            });
        }
        // Another environment's own problems are reported when it is validated, not here.
        let saved = (std::mem::take(&mut self.diags), self.incomplete);
        let mut out = IndexMap::new();
        for env in names {
            let path = self.root.join("environments").join(&env).join("env.toml");
            if !path.is_file() {
                out.insert(env, None);
                continue;
            }
            let mut chain = Vec::new();
            let merged = self.merged(&path, None, &mut chain);
            let mut stacks_out = IndexMap::new();
            let names = merged
                .iter()
                .find(|e| e.key == "stacks")
                .map(|e| list_of_strings(&e.value, "stacks", &mut self.diags))
                .unwrap_or_default();
            for (stack, span) in names {
                let outputs = self
                    .stack(&stack, Some(span))
                    .map(|s| s.outputs.into_iter().map(|o| o.name).collect());
                stacks_out.insert(stack, outputs.unwrap_or_default());
            }
            out.insert(env, Some(stacks_out));
        }
        (self.diags, self.incomplete) = saved;
        out
    }
}

/// Calls `f` on every expression a scope holds.
pub fn for_each_expr(scope: &ScopeDef, f: &mut dyn FnMut(&Expr)) {
    let meta = |m: &Meta, f: &mut dyn FnMut(&Expr)| {
        for e in [&m.count, &m.for_each, &m.account, &m.region]
            .into_iter()
            .flatten()
        {
            f(e);
        }
    };
    for r in &scope.resources {
        r.attrs.iter().for_each(|a| f(&a.value));
        meta(&r.meta, f);
    }
    for m in &scope.modules {
        m.inputs.iter().for_each(|a| f(&a.value));
        meta(&m.meta, f);
    }
    scope
        .locals
        .iter()
        .chain(&scope.outputs)
        .for_each(|n| f(&n.expr));
}

/// Merges `over` onto `base`: tables recursively, other values replaced.
fn merge_entries(base: &mut Vec<MapEntry>, over: Vec<MapEntry>) {
    for entry in over {
        match base.iter_mut().find(|e| e.key == entry.key) {
            Some(existing) => match (&mut existing.value.kind, entry.value.kind) {
                (ExprKind::Map(into), ExprKind::Map(from)) => merge_entries(into, from),
                (_, kind) => {
                    existing.value = Expr {
                        span: entry.value.span,
                        kind,
                    };
                    existing.key_span = entry.key_span;
                }
            },
            None => base.push(entry),
        }
    }
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Names of the stacks or modules in a folder (files without `.toml`, and subfolders).
fn folder_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|n| n.trim_end_matches(".toml").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(src: &str) -> Vec<MapEntry> {
        let mut sources = Sources::default();
        let file = sources.add(Path::new("x"), "x".into(), src.into());
        let mut diags = Diagnostics::default();
        let doc = toml::parse_file(&sources, file, &mut diags).unwrap();
        doc.as_map().unwrap().to_vec()
    }

    #[test]
    fn merge_replaces_scalars_and_lists_and_merges_tables() {
        let mut base = entries("stacks = [\"a\"]\n[vars]\nx = 1\ny = [1]\n[vars.t]\nk = 1\n");
        merge_entries(
            &mut base,
            entries("stacks = [\"b\"]\n[vars]\ny = [2]\n[vars.t]\nj = 2\n"),
        );
        let stacks = &base.iter().find(|e| e.key == "stacks").unwrap().value;
        assert!(matches!(&stacks.kind, ExprKind::List(l) if l[0].as_str() == Some("b")));
        let vars = base
            .iter()
            .find(|e| e.key == "vars")
            .unwrap()
            .value
            .as_map()
            .unwrap();
        let keys: Vec<&str> = vars.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["x", "y", "t"]);
        let t = vars[2].value.as_map().unwrap();
        assert_eq!(t.len(), 2, "nested tables merge key by key");
    }
}
