//! Checks of the resolved landing zone against limits AWS enforces only at apply time (and the local
//! emulator not at all): account emails, OU names and depth, policy sizes and counts, IAM names, networks.

use super::Instance;
use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{InstanceId, Value};
use crate::source::Span;
use ipnet::Ipv4Net;
use std::collections::HashMap;

/// Maximum minified size of a policy document, per Organizations policy type.
const POLICY_TYPES: &[(&str, usize)] = &[
    ("SERVICE_CONTROL_POLICY", 5_120),
    ("RESOURCE_CONTROL_POLICY", 5_120),
    ("TAG_POLICY", 10_000),
    ("BACKUP_POLICY", 10_000),
];

/// AWS allows five service control policies per root, OU or account.
const MAX_SCPS_PER_TARGET: usize = 5;
/// Five levels of OUs below the root.
const MAX_OU_DEPTH: usize = 5;

pub fn check(instances: &[Instance], diags: &mut Diagnostics) {
    let mut c = Checker { instances, diags };
    c.bounds();
    c.accounts();
    c.organizational_units();
    c.policies();
    c.iam();
    c.networks();
    c.security_groups();
    c.transit_gateway_attachments();
}

/// Checks `[[moved]]` entries against the configuration: `to` is declared, `from` no longer is.
pub fn moved(stacks: &[crate::load::ScopeDef], instances: &[Instance], diags: &mut Diagnostics) {
    use crate::address::covers;
    for stack in stacks {
        for m in &stack.moved {
            let from = format!("{}.{}", stack.name, m.from);
            let to = format!("{}.{}", stack.name, m.to);
            // A `to` that another entry moves on is a chain, reported when the stack was loaded.
            let chained = stack
                .moved
                .iter()
                .any(|o| !std::ptr::eq(o, m) && (covers(&o.from, &m.to) || covers(&m.to, &o.from)));
            if !chained && !instances.iter().any(|i| covers(&to, &i.address)) {
                diags.push(
                    Diagnostic::error(format!("[[moved]] to `{}`, which is not configured", m.to))
                        .at(m.to_span, "nothing is declared at this address")
                        .help("`to` is the resource's or module instance's new address in this stack; declare it, or fix the address"),
                );
            }
            // `vpc.main` -> `vpc.main[0]`: the new address lies under the old one and is allowed.
            if let Some(i) = instances
                .iter()
                .find(|i| covers(&from, &i.address) && !covers(&to, &i.address))
            {
                diags.push(
                    Diagnostic::error(format!("[[moved]] from `{}`, which is still configured", m.from))
                        .at(m.from_span, format!("{} is declared", i.address))
                        .note(Some(i.span), "declared here")
                        .help("`from` is the old address: rename the declaration to the `to` address, or remove this entry"),
                );
            }
        }
    }
}

struct Checker<'a> {
    instances: &'a [Instance],
    diags: &'a mut Diagnostics,
}

/// What identifies the thing an id-valued attribute points at: the resource it comes from, or the literal id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Instance(InstanceId),
    Literal(String),
}

fn target(v: &Value) -> Option<Target> {
    match v {
        Value::String(s) => Some(Target::Literal(s.clone())),
        other => other.origin().map(Target::Instance),
    }
}

impl Checker<'_> {
    fn of_kind<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = (usize, &'s Instance)> + 's {
        self.instances
            .iter()
            .enumerate()
            .filter(move |(_, i)| i.kind.name == kind)
    }

    /// Every attribute within the range, length and pattern its schema gives (what AWS accepts), nested
    /// blocks such as security group rules included.
    fn bounds(&mut self) {
        use crate::schema::AttrType;
        for inst in self.instances {
            for attr in inst.kind.attrs {
                let Some(v) = inst.attrs.get(attr.name) else {
                    continue;
                };
                let at = Self::span(inst, attr.name);
                let mut found = Vec::new();
                limits(attr.name, v, attr.range, attr.text, attr.keys, &mut found);
                if let (Some(max), Value::List(items)) = (attr.max_items, v)
                    && items.len() > max
                {
                    found.push((
                        format!(
                            "`{}` has {} items; AWS accepts at most {max}",
                            attr.name,
                            items.len()
                        ),
                        "too many items",
                        format!("keep at most {max} (`landfall kinds` lists every limit)"),
                    ));
                }
                if let (AttrType::List(AttrType::Object(fields)), Value::List(items)) =
                    (&attr.ty, v)
                {
                    for block in items.iter().filter_map(|i| match i {
                        Value::Map(m) => Some(m),
                        _ => None,
                    }) {
                        for f in fields.iter() {
                            if let Some(v) = block.get(f.name) {
                                let name = format!("{}.{}", attr.name, f.name);
                                limits(&name, v, f.range, f.text, None, &mut found);
                            }
                        }
                    }
                }
                for (message, label, help) in found {
                    self.diags.push(
                        Diagnostic::error(format!("{}: {message}", inst.address))
                            .at(at, label)
                            .help(help),
                    );
                }
            }
        }
    }

    fn span(inst: &Instance, attr: &str) -> Span {
        inst.attr_spans.get(attr).copied().unwrap_or(inst.span)
    }

    fn str_attr<'i>(inst: &'i Instance, attr: &str) -> Option<&'i str> {
        inst.attrs.get(attr).and_then(Value::as_str)
    }

    fn accounts(&mut self) {
        let mut emails: HashMap<String, &Instance> = HashMap::new();
        let mut found = Vec::new();
        for (_, inst) in self.of_kind("account") {
            if let Some(email) = Self::str_attr(inst, "email") {
                match emails.get(&email.to_ascii_lowercase()) {
                    Some(first) => found.push(
                        Diagnostic::error(format!("duplicate account email {email:?}"))
                            .at(Self::span(inst, "email"), format!("{} uses it", inst.address))
                            .note(Some(Self::span(first, "email")), format!("{} uses it too", first.address))
                            .help("every AWS account needs its own root email; plus-addressing (aws+NAME@...) keeps one mailbox"),
                    ),
                    None => {
                        emails.insert(email.to_ascii_lowercase(), inst);
                    }
                }
            }
        }
        self.diags.0.extend(found);
    }

    fn organizational_units(&mut self) {
        let mut found = Vec::new();
        let mut by_parent: HashMap<(Target, String), &Instance> = HashMap::new();
        let parent_of: HashMap<usize, Option<Target>> = self
            .of_kind("organizational_unit")
            .map(|(i, inst)| (i, inst.attrs.get("parent_id").and_then(target)))
            .collect();
        for (i, inst) in self.of_kind("organizational_unit") {
            let Some(name) = Self::str_attr(inst, "name") else {
                continue;
            };
            if let Some(parent) = parent_of[&i].clone() {
                match by_parent.get(&(parent.clone(), name.to_string())) {
                    Some(first) => found.push(
                        Diagnostic::error(format!(
                            "duplicate OU name {name:?} under the same parent"
                        ))
                        .at(
                            Self::span(inst, "name"),
                            format!("{} is named {name:?}", inst.address),
                        )
                        .note(
                            Some(Self::span(first, "name")),
                            format!("{} has the same name and parent", first.address),
                        )
                        .help("AWS rejects two OUs with one name under one parent; rename one"),
                    ),
                    None => {
                        by_parent.insert((parent, name.to_string()), inst);
                    }
                }
            }
            // Depth: follow parents that are OUs of this configuration.
            let mut depth = 1;
            let mut cur = parent_of[&i].clone();
            while let Some(Target::Instance(p)) = cur {
                let Some(next) = parent_of.get(&(p.0 as usize)) else {
                    break;
                };
                depth += 1;
                if depth > MAX_OU_DEPTH + 1 {
                    break;
                }
                cur = next.clone();
            }
            if depth > MAX_OU_DEPTH {
                found.push(
                    Diagnostic::error(format!(
                        "{} is nested {depth} levels deep; AWS allows {MAX_OU_DEPTH}",
                        inst.address
                    ))
                    .at(Self::span(inst, "parent_id"), "too deep")
                    .help("flatten the OU tree"),
                );
            }
        }
        self.diags.0.extend(found);
    }

    fn policies(&mut self) {
        let mut found = Vec::new();
        for (_, inst) in self.of_kind("policy") {
            let ty = Self::str_attr(inst, "type").unwrap_or("SERVICE_CONTROL_POLICY");
            let Some((_, limit)) = POLICY_TYPES.iter().find(|(t, _)| *t == ty) else {
                found.push(
                    Diagnostic::error(format!("{}: unknown policy type {ty:?}", inst.address))
                        .at(Self::span(inst, "type"), "not a policy type")
                        .suggest(ty, POLICY_TYPES.iter().map(|(t, _)| *t)),
                );
                continue;
            };
            let Some(content) = inst.attrs.get("content") else {
                continue;
            };
            if content.has_unknown() {
                continue;
            }
            let minified = content.to_json().to_string();
            if minified.chars().count() > *limit {
                found.push(
                    Diagnostic::error(format!(
                        "{}: the {ty} document is {} characters minified; AWS allows {limit}",
                        inst.address,
                        minified.chars().count()
                    ))
                    .at(Self::span(inst, "content"), "too large")
                    .help("split it into several policies, or use wildcards and NotAction to shorten it"),
                );
            }
            if matches!(ty, "SERVICE_CONTROL_POLICY" | "RESOURCE_CONTROL_POLICY")
                && let Some(why) = not_a_policy_document(content)
            {
                found.push(
                    Diagnostic::error(format!(
                        "{}: not a valid policy document: {why}",
                        inst.address
                    ))
                    .at(Self::span(inst, "content"), "invalid document"),
                );
            }
        }
        // Count the service control policies attached to each target.
        let mut per_target: HashMap<Target, Vec<&Instance>> = HashMap::new();
        for (_, att) in self.of_kind("policy_attachment") {
            let policy = att
                .attrs
                .get("policy_id")
                .and_then(Value::origin)
                .map(|p| &self.instances[p.0 as usize]);
            let is_scp = policy.is_none_or(|p| {
                p.kind.name == "policy"
                    && Self::str_attr(p, "type").unwrap_or("SERVICE_CONTROL_POLICY")
                        == "SERVICE_CONTROL_POLICY"
            });
            if let (true, Some(t)) = (is_scp, att.attrs.get("target_id").and_then(target)) {
                per_target.entry(t).or_default().push(att);
            }
        }
        let mut targets: Vec<_> = per_target
            .into_iter()
            .filter(|(_, v)| v.len() > MAX_SCPS_PER_TARGET)
            .collect();
        targets.sort_by_key(|(_, v)| v[0].span);
        for (t, atts) in targets {
            let name = match &t {
                Target::Instance(id) => self.instances[id.0 as usize].address.clone(),
                Target::Literal(s) => s.clone(),
            };
            let mut d = Diagnostic::error(format!("{} service control policies are attached to {name}; AWS allows {MAX_SCPS_PER_TARGET}", atts.len()))
                .at(Self::span(atts[MAX_SCPS_PER_TARGET], "target_id"), "one too many")
                .help("merge policies, or attach some to a parent OU instead (AWS counts FullAWSAccess too while it stays attached)");
            for a in &atts[..MAX_SCPS_PER_TARGET] {
                d = d.note(
                    Some(Self::span(a, "target_id")),
                    format!("{} attaches one", a.address),
                );
            }
            found.push(d);
        }
        self.diags.0.extend(found);
    }

    fn iam(&mut self) {
        let mut found = Vec::new();
        for kind in ["iam_role", "iam_group", "iam_policy"] {
            for (_, inst) in self.of_kind(kind) {
                for doc_attr in ["assume_role_policy", "policy"] {
                    if let Some(doc) = inst.attrs.get(doc_attr).filter(|d| !d.has_unknown())
                        && let Some(why) = not_a_policy_document(doc)
                    {
                        found.push(
                            Diagnostic::error(format!(
                                "{}: `{doc_attr}` is not a valid policy document: {why}",
                                inst.address
                            ))
                            .at(Self::span(inst, doc_attr), "invalid document"),
                        );
                    }
                }
            }
        }
        // One name per role, group and policy within an account.
        let mut names: HashMap<(&str, String, Option<Target>), &Instance> = HashMap::new();
        for inst in self
            .instances
            .iter()
            .filter(|i| matches!(i.kind.name, "iam_role" | "iam_group" | "iam_policy"))
        {
            let Some(name) = Self::str_attr(inst, "name") else {
                continue;
            };
            let account = if inst.account == Value::Null {
                None
            } else {
                target(&inst.account)
            };
            if matches!(inst.account, Value::Unknown(None)) {
                continue;
            }
            let key = (inst.kind.name, name.to_string(), account);
            match names.get(&key) {
                Some(first) => found.push(
                    Diagnostic::error(format!(
                        "duplicate {} name {name:?} in one account",
                        inst.kind.name
                    ))
                    .at(
                        Self::span(inst, "name"),
                        format!("{} uses it", inst.address),
                    )
                    .note(
                        Some(Self::span(first, "name")),
                        format!("{} uses it too", first.address),
                    ),
                ),
                None => {
                    names.insert(key, inst);
                }
            }
        }
        self.diags.0.extend(found);
    }

    fn networks(&mut self) {
        let mut found = Vec::new();
        let cidr = |inst: &Instance| {
            Self::str_attr(inst, "cidr_block").and_then(|s| s.parse::<Ipv4Net>().ok())
        };
        for (_, inst) in self.of_kind("vpc") {
            if let Some(net) = cidr(inst)
                && !(16..=28).contains(&net.prefix_len())
            {
                found.push(
                    Diagnostic::error(format!(
                        "{}: a VPC's range must be between /16 and /28, {net} is not",
                        inst.address
                    ))
                    .at(Self::span(inst, "cidr_block"), "invalid size"),
                );
            }
        }
        let mut per_vpc: HashMap<InstanceId, Vec<(Ipv4Net, &Instance)>> = HashMap::new();
        for (_, inst) in self.of_kind("subnet") {
            let Some(net) = cidr(inst) else { continue };
            if !(16..=28).contains(&net.prefix_len()) {
                found.push(
                    Diagnostic::error(format!(
                        "{}: a subnet's range must be between /16 and /28, {net} is not",
                        inst.address
                    ))
                    .at(Self::span(inst, "cidr_block"), "invalid size"),
                );
            }
            if let (Some(az), Some(region)) =
                (Self::str_attr(inst, "availability_zone"), &inst.region)
                && let Some(why) = zone_problem(az, region)
            {
                let zones = crate::schema::zone_letters(region)
                    .unwrap_or_default()
                    .chars()
                    .map(|c| format!("{region}{c}"));
                found.push(
                    Diagnostic::error(format!("{}: {why}", inst.address))
                        .at(Self::span(inst, "availability_zone"), "no such zone")
                        .help(format!(
                            "zones of {region}: {}",
                            zones.collect::<Vec<_>>().join(", ")
                        )),
                );
            }
            let Some(vpc_id) = inst.attrs.get("vpc_id").and_then(Value::origin) else {
                continue;
            };
            let vpc = &self.instances[vpc_id.0 as usize];
            if vpc.kind.name != "vpc" {
                continue;
            }
            if let Some(vnet) = cidr(vpc)
                && !vnet.contains(&net)
            {
                found.push(
                    Diagnostic::error(format!(
                        "{}: subnet {net} is outside its VPC's range {vnet}",
                        inst.address
                    ))
                    .at(Self::span(inst, "cidr_block"), format!("not inside {vnet}"))
                    .note(
                        Some(Self::span(vpc, "cidr_block")),
                        format!("{} has {vnet}", vpc.address),
                    )
                    .help(format!(
                        "pick a range inside {vnet}, e.g. with cidrsubnet(\"{vnet}\", 4, N)"
                    )),
                );
                continue;
            }
            per_vpc.entry(vpc_id).or_default().push((net, inst));
        }
        let mut vpcs: Vec<_> = per_vpc.into_values().collect();
        vpcs.sort_by_key(|v| v[0].1.span);
        for mut subnets in vpcs {
            subnets.sort_by_key(|(n, i)| (u32::from(n.network()), i.span));
            // Sweep in address order, remembering the subnet that reaches furthest: any later subnet that
            // starts before that end overlaps it.
            let mut reach: Option<(u64, &(Ipv4Net, &Instance))> = None;
            for cur in &subnets {
                let start = u32::from(cur.0.network()) as u64;
                let end = u32::from(cur.0.broadcast()) as u64;
                if let Some((max_end, prev)) = reach
                    && start <= max_end
                {
                    let (first, second) = if prev.1.span <= cur.1.span {
                        (prev, cur)
                    } else {
                        (cur, prev)
                    };
                    found.push(
                        Diagnostic::error(format!("subnets {} and {} overlap", prev.0, cur.0))
                            .at(Self::span(second.1, "cidr_block"), format!("{} overlaps", second.1.address))
                            .note(Some(Self::span(first.1, "cidr_block")), first.1.address.to_string())
                            .help("give each subnet of a VPC its own range, e.g. with cidrsubnet(vpc_cidr, 4, N)"),
                    );
                }
                if reach.is_none_or(|(max_end, _)| end > max_end) {
                    reach = Some((end, cur));
                }
            }
        }
        self.diags.0.extend(found);
    }

    /// VPCs attached to one transit gateway must not overlap: the gateway could not tell their
    /// addresses apart (AWS accepts the attachment and routes to only one of them).
    fn transit_gateway_attachments(&mut self) {
        let mut by_gateway: HashMap<Target, Vec<(Ipv4Net, &Instance, &Instance)>> = HashMap::new();
        for (_, inst) in self.of_kind("transit_gateway_vpc_attachment") {
            let Some(gateway) = inst.attrs.get("transit_gateway_id").and_then(target) else {
                continue;
            };
            let Some(vpc_id) = inst.attrs.get("vpc_id").and_then(Value::origin) else {
                continue;
            };
            let vpc = &self.instances[vpc_id.0 as usize];
            let net = Self::str_attr(vpc, "cidr_block").and_then(|s| s.parse::<Ipv4Net>().ok());
            if let (Some(net), "vpc") = (net, vpc.kind.name) {
                by_gateway
                    .entry(gateway)
                    .or_default()
                    .push((net, inst, vpc));
            }
        }
        let mut groups: Vec<_> = by_gateway.into_values().collect();
        groups.sort_by_key(|g| g[0].1.span);
        let mut found = Vec::new();
        for group in groups {
            for (i, (net, inst, vpc)) in group.iter().enumerate() {
                let Some((other, first, first_vpc)) = group[..i]
                    .iter()
                    .find(|(o, _, _)| o.contains(&net.network()) || net.contains(&o.network()))
                else {
                    continue;
                };
                found.push(
                    Diagnostic::error(format!(
                        "{} and {} attach overlapping VPCs ({other} and {net}) to one transit gateway",
                        first.address, inst.address
                    ))
                    .at(Self::span(inst, "vpc_id"), format!("{} has {net}", vpc.address))
                    .note(
                        Some(Self::span(first, "vpc_id")),
                        format!("{} has {other}", first_vpc.address),
                    )
                    .help("give every VPC attached to a transit gateway its own address range"),
                );
            }
        }
        self.diags.0.extend(found);
    }

    /// Rules AWS would report back in another shape than written, so the group would never read
    /// back equal (a difference on every plan): AWS groups the CIDR ranges of one protocol, port
    /// range and description into one rule, and a source security group is a rule of its own.
    fn security_groups(&mut self) {
        let mut found = Vec::new();
        for (_, inst) in self.of_kind("security_group") {
            for direction in ["ingress", "egress"] {
                let Some(Value::List(rules)) = inst.attrs.get(direction) else {
                    continue;
                };
                let mut seen: HashMap<String, usize> = HashMap::new();
                for (n, rule) in rules.iter().enumerate() {
                    let Value::Map(rule) = rule else { continue };
                    let has = |k: &str| rule.get(k).is_some_and(|v| !matches!(v, Value::Null));
                    if has("cidr_blocks") && has("security_group_id") {
                        found.push(
                            Diagnostic::error(format!(
                                "{}: {direction} rule {} has both cidr_blocks and a \
                                 security_group_id",
                                inst.address,
                                n + 1
                            ))
                            .at(Self::span(inst, direction), "two sources in one rule")
                            .help("AWS keeps them as separate rules: write the security group source as a rule of its own"),
                        );
                        continue;
                    }
                    if !has("cidr_blocks") {
                        continue;
                    }
                    let key = ["protocol", "from_port", "to_port", "description"]
                        .iter()
                        .map(|k| rule.get(*k).map(|v| v.to_string()).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("|");
                    if let Some(first) = seen.insert(key, n) {
                        found.push(
                            Diagnostic::error(format!(
                                "{}: {direction} rules {} and {} have the same protocol, ports \
                                 and description",
                                inst.address,
                                first + 1,
                                n + 1
                            ))
                            .at(Self::span(inst, direction), "split rule")
                            .help("AWS reports them as one rule: merge them into one with both rules' cidr_blocks"),
                        );
                    }
                }
            }
        }
        self.diags.0.extend(found);
    }
}

/// What is outside the limits AWS sets on a value: a number outside `range` (or not whole), a string
/// (or each string of a list, each value of a map) not matching `text`, a map key not matching `keys`.
/// Each problem is a message naming the attribute and a label.
fn limits(
    name: &str,
    v: &Value,
    range: Option<(i64, i64)>,
    text: Option<crate::schema::Text>,
    keys: Option<crate::schema::Text>,
    found: &mut Vec<(String, &'static str, String)>,
) {
    use crate::expr::format_number;
    match v {
        Value::Number(n) => {
            if let Some((min, max)) = range
                && (*n < min as f64 || *n > max as f64 || n.fract() != 0.0)
            {
                found.push((
                    format!(
                        "`{name}` is {}; AWS accepts whole numbers from {min} to {max}",
                        format_number(*n)
                    ),
                    "out of range",
                    format!("write a whole number from {min} to {max} (`landfall kinds` lists every limit)"),
                ));
            }
        }
        Value::String(s) => {
            if let Some(why) = text.and_then(|t| t.problem(s)) {
                found.push((
                    format!("`{name}` {why}"),
                    "not accepted by AWS",
                    format!(
                        "AWS accepts {}",
                        text.map(|t| t.describe()).unwrap_or_default()
                    ),
                ));
            }
        }
        Value::List(items) => {
            for item in items.iter().filter(|i| matches!(i, Value::String(_))) {
                limits(name, item, range, text, None, found);
            }
        }
        Value::Map(map) => {
            for (k, item) in map.iter() {
                if let Some(why) = keys.and_then(|t| t.problem(k)) {
                    found.push((
                        format!("`{name}` key {why}"),
                        "key not accepted by AWS",
                        format!(
                            "AWS accepts keys of {}",
                            keys.map(|t| t.describe()).unwrap_or_default()
                        ),
                    ));
                }
                if matches!(item, Value::String(_)) {
                    limits(&format!("{name}.{k}"), item, range, text, None, found);
                }
            }
        }
        _ => {}
    }
}

/// Why `az` is not an availability zone of `region`, if it is not: another region's zone, or a letter
/// the region does not have (`us-east-1g`).
fn zone_problem(az: &str, region: &str) -> Option<String> {
    let letters = crate::schema::zone_letters(region)?;
    let Some(letter) = az.strip_prefix(region) else {
        return Some(format!(
            "availability zone {az:?} is not in the subnet's region {region}"
        ));
    };
    let mut chars = letter.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if letters.contains(c) => None,
        _ => Some(format!("{region} has no availability zone {az:?}")),
    }
}

/// Why a value is not an IAM-style policy document (`{"Version": ..., "Statement": [...]}`), if it is not.
fn not_a_policy_document(doc: &Value) -> Option<String> {
    let Value::Map(map) = doc else {
        return Some(format!("expected an object, found a {}", doc.type_name()));
    };
    match map.get("Statement") {
        None => Some("it has no `Statement`".into()),
        Some(Value::List(items)) if items.is_empty() => Some("`Statement` is empty".into()),
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .find_map(|(i, s)| statement_problem(s).map(|p| format!("statement {}: {p}", i + 1))),
        Some(s @ Value::Map(_)) => statement_problem(s),
        Some(other) => Some(format!(
            "`Statement` must be a list or an object, found a {}",
            other.type_name()
        )),
    }
}

fn statement_problem(s: &Value) -> Option<String> {
    let Value::Map(m) = s else {
        return Some("a statement must be an object".into());
    };
    match m.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        Some(other) => {
            return Some(format!(
                "`Effect` must be \"Allow\" or \"Deny\", not {other:?}"
            ));
        }
        None => return Some("it has no `Effect`".into()),
    }
    if !["Action", "NotAction"].iter().any(|k| m.contains_key(*k)) {
        return Some("it has no `Action` or `NotAction`".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_checked_against_the_region_s_letters() {
        assert!(zone_problem("us-east-1f", "us-east-1").is_none());
        assert!(zone_problem("ca-central-1d", "ca-central-1").is_none());
        assert!(zone_problem("ca-central-1c", "ca-central-1").is_some());
        assert!(zone_problem("us-east-1g", "us-east-1").is_some());
        assert!(zone_problem("us-east-1", "us-east-1").is_some());
        assert!(zone_problem("us-east-1aa", "us-east-1").is_some());
        assert!(zone_problem("eu-west-1a", "eu-central-1").is_some());
    }

    #[test]
    fn policy_documents_need_statements_with_effect_and_action() {
        let doc = |j: &str| Value::from_json(&serde_json::from_str(j).unwrap());
        assert_eq!(
            not_a_policy_document(&doc(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#
            )),
            None
        );
        assert!(not_a_policy_document(&doc(r#"{"Version":"2012-10-17"}"#)).is_some());
        assert!(
            not_a_policy_document(&doc(r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#))
                .is_some()
        );
    }
}
