//! Seeded random change sequences: a small landing zone in the management account, generated as TOML
//! from a model by a deterministic PRNG, then edited step by step the way a platform team edits one —
//! add, remove, rename (through `[[moved]]`, or with a new AWS name), change in place, change that
//! forces replacement — or disturbed the way day 2 disturbs one: drift made outside landfall, a
//! resource deleted outside, a create whose answer is lost, an apply killed with SIGKILL.
//!
//! After every step: apply exits 0 (after `force-unlock` for a killed run), the emulator's census equals
//! the configuration (each configured address exists exactly once by its `landfall:address` tag, no
//! tagged resource has an unconfigured address, IAM names as configured), every id referenced in AWS
//! is the one of the configured resource it should be (a subnet's VPC, route targets, security group
//! rule sources, role attachments), and the next plan is empty. Everything is read back from the
//! emulator with the SDK, not from landfall's state. Applies go through the fault proxy in `--strict`
//! mode, so an order AWS would refuse fails the step.
//!
//! A fixed set of seeds runs in the suite. `scripts/random-sequences.sh` runs more or longer ones
//! through the same code: `LANDFALL_SEQ_SEEDS=N` (N seeds from `LANDFALL_SEQ_FIRST`, default 1),
//! `LANDFALL_SEQ_SEED=S` (only S), `LANDFALL_SEQ_STEPS=M`. A failure prints the seed and the steps so far, so it can be replayed.

mod common;

use aws_sdk_ec2::types::Filter;
use common::cli::{command, landfall, landfall_via, lock_id, text};
use common::moto::{FaultProxy, Moto};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The seeds the suite runs, and how many steps each.
const SEEDS: [u64; 4] = [1, 2, 3, 4];
const STEPS: usize = 8;

/// splitmix64: tiny, deterministic, good enough to pick edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Vpc,
    Subnet,
    Igw,
    Nat,
    RouteTable,
    SecurityGroup,
    Policy,
    Role,
}

const KINDS: [Kind; 8] = [
    Kind::Vpc,
    Kind::Subnet,
    Kind::Igw,
    Kind::Nat,
    Kind::RouteTable,
    Kind::SecurityGroup,
    Kind::Policy,
    Kind::Role,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::Igw => "internet_gateway",
            Kind::Nat => "nat_gateway",
            Kind::RouteTable => "route_table",
            Kind::SecurityGroup => "security_group",
            Kind::Policy => "iam_policy",
            Kind::Role => "iam_role",
        }
    }

    /// The create call whose answer a lost-answer step loses.
    fn create_operation(self) -> &'static str {
        match self {
            Kind::Vpc => "CreateVpc",
            Kind::Subnet => "CreateSubnet",
            Kind::Igw => "CreateInternetGateway",
            Kind::Nat => "AllocateAddress",
            Kind::RouteTable => "CreateRouteTable",
            Kind::SecurityGroup => "CreateSecurityGroup",
            Kind::Policy => "CreatePolicy",
            Kind::Role => "CreateRole",
        }
    }
}

/// Where a route goes: an internet gateway or a NAT gateway of the table's VPC (by resource name).
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Igw(String),
    Nat(String),
}

/// One configured resource. References name other resources of the model; names are unique across
/// kinds (one counter), so a rename rewrites every field that held the old name.
#[derive(Clone, Debug)]
enum Res {
    /// `10.OCTET.0.0/16`, and an `env` tag.
    Vpc {
        octet: u32,
        env: String,
    },
    /// `10.(vpc octet).INDEX.0/24` in availability zone `eu-west-1{az}`, and a `tier` tag.
    Subnet {
        vpc: String,
        index: u32,
        az: char,
        tier: String,
    },
    Igw {
        vpc: String,
    },
    Nat {
        subnet: String,
    },
    /// Routes (destination, target) and associated subnets.
    RouteTable {
        vpc: String,
        routes: Vec<(String, Target)>,
        subnets: Vec<String>,
    },
    /// An HTTPS-like rule from 10.0.0.0/8 on `port`, and optionally port 8080 from another group.
    SecurityGroup {
        vpc: String,
        aws_name: String,
        description: String,
        port: i32,
        source: Option<String>,
    },
    Policy {
        aws_name: String,
        description: String,
        action: String,
        team: String,
    },
    Role {
        aws_name: String,
        description: String,
        policies: Vec<String>,
    },
}

impl Res {
    fn kind(&self) -> Kind {
        match self {
            Res::Vpc { .. } => Kind::Vpc,
            Res::Subnet { .. } => Kind::Subnet,
            Res::Igw { .. } => Kind::Igw,
            Res::Nat { .. } => Kind::Nat,
            Res::RouteTable { .. } => Kind::RouteTable,
            Res::SecurityGroup { .. } => Kind::SecurityGroup,
            Res::Policy { .. } => Kind::Policy,
            Res::Role { .. } => Kind::Role,
        }
    }

    fn rename_references(&mut self, from: &str, to: &str) {
        let fix = |s: &mut String| {
            if s == from {
                *s = to.to_string();
            }
        };
        match self {
            Res::Vpc { .. } | Res::Policy { .. } => {}
            Res::Subnet { vpc, .. } | Res::Igw { vpc } => fix(vpc),
            Res::Nat { subnet } => fix(subnet),
            Res::RouteTable {
                vpc,
                routes,
                subnets,
            } => {
                fix(vpc);
                for (_, t) in routes {
                    match t {
                        Target::Igw(n) | Target::Nat(n) => fix(n),
                    }
                }
                subnets.iter_mut().for_each(fix);
            }
            Res::SecurityGroup { vpc, source, .. } => {
                fix(vpc);
                if let Some(s) = source {
                    fix(s);
                }
            }
            Res::Role { policies, .. } => policies.iter_mut().for_each(fix),
        }
    }
}

/// The configuration: resources by name, and the `[[moved]]` entries (full `kind.name` addresses).
#[derive(Clone, Debug, Default)]
struct Model {
    counter: u32,
    res: BTreeMap<String, Res>,
    moved: Vec<(String, String)>,
}

impl Model {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn address(&self, name: &str) -> String {
        format!("main.{}.{name}", self.res[name].kind().name())
    }

    fn names(&self, kind: Kind) -> Vec<String> {
        self.res
            .iter()
            .filter(|(_, r)| r.kind() == kind)
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn vpc_of(&self, name: &str) -> String {
        match &self.res[name] {
            Res::Vpc { .. } => name.to_string(),
            Res::Subnet { vpc, .. }
            | Res::Igw { vpc }
            | Res::RouteTable { vpc, .. }
            | Res::SecurityGroup { vpc, .. } => vpc.clone(),
            Res::Nat { subnet } => self.vpc_of(subnet),
            _ => String::new(),
        }
    }

    fn igw_of(&self, vpc: &str) -> Option<String> {
        self.names(Kind::Igw)
            .into_iter()
            .find(|g| self.vpc_of(g) == vpc)
    }

    fn octet(&self, vpc: &str) -> u32 {
        match &self.res[vpc] {
            Res::Vpc { octet, .. } => *octet,
            _ => unreachable!(),
        }
    }

    /// A /16 no VPC uses now (VPC replacements move to a new one).
    fn free_octet(&mut self) -> u32 {
        let used: BTreeSet<u32> = self
            .res
            .values()
            .filter_map(|r| match r {
                Res::Vpc { octet, .. } => Some(*octet),
                _ => None,
            })
            .collect();
        (1..250).find(|o| !used.contains(o)).unwrap()
    }

    fn free_subnet_index(&self, vpc: &str) -> u32 {
        let used: BTreeSet<u32> = self
            .res
            .values()
            .filter_map(|r| match r {
                Res::Subnet { vpc: v, index, .. } if v == vpc => Some(*index),
                _ => None,
            })
            .collect();
        (1..250).find(|i| !used.contains(i)).unwrap()
    }

    /// Subnets of `vpc` that no route table is associated with.
    fn unassociated_subnets(&self, vpc: &str) -> Vec<String> {
        let associated: BTreeSet<&String> = self
            .res
            .values()
            .flat_map(|r| match r {
                Res::RouteTable { subnets, .. } => subnets.iter().collect(),
                _ => vec![],
            })
            .collect();
        self.names(Kind::Subnet)
            .into_iter()
            .filter(|s| self.vpc_of(s) == vpc && !associated.contains(s))
            .collect()
    }

    /// What a route of a table in `vpc` can point at.
    fn targets(&self, vpc: &str) -> Vec<Target> {
        let mut t: Vec<Target> = self.igw_of(vpc).into_iter().map(Target::Igw).collect();
        t.extend(
            self.names(Kind::Nat)
                .into_iter()
                .filter(|n| self.vpc_of(n) == vpc)
                .map(Target::Nat),
        );
        t
    }

    /// Whether some security group takes rules from `sg`.
    fn is_source(&self, sg: &str) -> bool {
        self.res
            .values()
            .any(|r| matches!(r, Res::SecurityGroup { source: Some(s), .. } if s == sg))
    }

    /// Removes `name` and, first, everything that cannot live without it: what sits in a VPC or a
    /// subnet, NAT gateways of a VPC losing its internet gateway (AWS refuses to detach one while
    /// public addresses are mapped), routes to a removed gateway, attachments of a removed policy.
    fn remove(&mut self, name: &str) {
        let Some(removed) = self.res.remove(name) else {
            return;
        };
        self.prune_moved();
        let dependents: Vec<String> = self
            .res
            .iter()
            .filter(|(_, r)| match r {
                Res::Subnet { vpc, .. }
                | Res::Igw { vpc }
                | Res::RouteTable { vpc, .. }
                | Res::SecurityGroup { vpc, .. } => vpc == name,
                Res::Nat { subnet } => subnet == name,
                _ => false,
            })
            .map(|(n, _)| n.clone())
            .collect();
        for d in dependents {
            self.remove(&d);
        }
        if let Res::Igw { vpc } = &removed {
            for nat in self.names(Kind::Nat) {
                if self.vpc_of(&nat) == *vpc {
                    self.remove(&nat);
                }
            }
        }
        for r in self.res.values_mut() {
            match r {
                Res::RouteTable {
                    routes, subnets, ..
                } => {
                    routes.retain(
                        |(_, t)| !matches!(t, Target::Igw(n) | Target::Nat(n) if n == name),
                    );
                    subnets.retain(|s| s != name);
                }
                Res::SecurityGroup { source, .. } if source.as_deref() == Some(name) => {
                    *source = None
                }
                Res::Role { policies, .. } => policies.retain(|p| p != name),
                _ => {}
            }
        }
    }

    /// Renames `from` to `to`; with `moved`, through a `[[moved]]` entry (no chains: an entry that led
    /// to `from` now leads to `to`).
    fn rename(&mut self, from: &str, to: &str, moved: bool) {
        let r = self.res.remove(from).unwrap();
        let kind = r.kind().name();
        self.res.insert(to.to_string(), r);
        for r in self.res.values_mut() {
            r.rename_references(from, to);
        }
        if moved {
            let (old, new) = (format!("{kind}.{from}"), format!("{kind}.{to}"));
            for m in &mut self.moved {
                if m.1 == old {
                    m.1 = new.clone();
                }
            }
            self.moved.push((old, new));
        }
        self.prune_moved();
    }

    /// Drops the `[[moved]]` entries that lead to an address no longer configured (landfall refuses
    /// them; a user removing a resource removes its entries too).
    fn prune_moved(&mut self) {
        let configured: BTreeSet<String> = self
            .res
            .iter()
            .map(|(n, r)| format!("{}.{n}", r.kind().name()))
            .collect();
        self.moved.retain(|(_, to)| configured.contains(to));
    }

    fn toml(&self) -> String {
        let mut t = String::new();
        for (name, r) in &self.res {
            let _ = writeln!(t, "[{}.{name}]", r.kind().name());
            match r {
                Res::Vpc { octet, env } => {
                    let _ = writeln!(t, "cidr_block = \"10.{octet}.0.0/16\"");
                    let _ = writeln!(t, "tags = {{ env = \"{env}\" }}");
                }
                Res::Subnet {
                    vpc,
                    index,
                    az,
                    tier,
                } => {
                    let _ = writeln!(t, "vpc_id = \"${{vpc.{vpc}.id}}\"");
                    let _ = writeln!(t, "cidr_block = \"10.{}.{index}.0/24\"", self.octet(vpc));
                    let _ = writeln!(t, "availability_zone = \"eu-west-1{az}\"");
                    let _ = writeln!(t, "tags = {{ tier = \"{tier}\" }}");
                }
                Res::Igw { vpc } => {
                    let _ = writeln!(t, "vpc_id = \"${{vpc.{vpc}.id}}\"");
                }
                Res::Nat { subnet } => {
                    let _ = writeln!(t, "subnet_id = \"${{subnet.{subnet}.id}}\"");
                }
                Res::RouteTable {
                    vpc,
                    routes,
                    subnets,
                } => {
                    let _ = writeln!(t, "vpc_id = \"${{vpc.{vpc}.id}}\"");
                    let routes: Vec<String> = routes
                        .iter()
                        .map(|(dest, target)| match target {
                            Target::Igw(g) => format!(
                                "{{ destination_cidr_block = \"{dest}\", gateway_id = \"${{internet_gateway.{g}.id}}\" }}"
                            ),
                            Target::Nat(n) => format!(
                                "{{ destination_cidr_block = \"{dest}\", nat_gateway_id = \"${{nat_gateway.{n}.id}}\" }}"
                            ),
                        })
                        .collect();
                    let _ = writeln!(t, "routes = [{}]", routes.join(", "));
                    let subnets: Vec<String> = subnets
                        .iter()
                        .map(|s| format!("\"${{subnet.{s}.id}}\""))
                        .collect();
                    let _ = writeln!(t, "subnet_ids = [{}]", subnets.join(", "));
                }
                Res::SecurityGroup {
                    vpc,
                    aws_name,
                    description,
                    port,
                    source,
                } => {
                    let _ = writeln!(t, "name = \"{aws_name}\"");
                    let _ = writeln!(t, "description = \"{description}\"");
                    let _ = writeln!(t, "vpc_id = \"${{vpc.{vpc}.id}}\"");
                    let mut rules = vec![format!(
                        "{{ protocol = \"tcp\", from_port = {port}, to_port = {port}, cidr_blocks = [\"10.0.0.0/8\"], description = \"inside\" }}"
                    )];
                    if let Some(s) = source {
                        rules.push(format!(
                            "{{ protocol = \"tcp\", from_port = 8080, to_port = 8080, security_group_id = \"${{security_group.{s}.id}}\", description = \"peer\" }}"
                        ));
                    }
                    let _ = writeln!(t, "ingress = [{}]", rules.join(", "));
                }
                Res::Policy {
                    aws_name,
                    description,
                    action,
                    team,
                } => {
                    let _ = writeln!(t, "name = \"{aws_name}\"");
                    let _ = writeln!(t, "description = \"{description}\"");
                    let _ = writeln!(
                        t,
                        "policy = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"{action}\", Resource = \"*\" }}] }}"
                    );
                    let _ = writeln!(t, "tags = {{ team = \"{team}\" }}");
                }
                Res::Role {
                    aws_name,
                    description,
                    policies,
                } => {
                    let _ = writeln!(t, "name = \"{aws_name}\"");
                    let _ = writeln!(t, "description = \"{description}\"");
                    let _ = writeln!(
                        t,
                        "assume_role_policy = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Principal = {{ Service = \"ec2.amazonaws.com\" }}, Action = \"sts:AssumeRole\" }}] }}"
                    );
                    let arns: Vec<String> = policies
                        .iter()
                        .map(|p| format!("\"${{iam_policy.{p}.arn}}\""))
                        .collect();
                    let _ = writeln!(t, "managed_policy_arns = [{}]", arns.join(", "));
                }
            }
            t.push('\n');
        }
        for (from, to) in &self.moved {
            let _ = writeln!(t, "[[moved]]\nfrom = \"{from}\"\nto = \"{to}\"\n");
        }
        t
    }

    /// Adds a resource of `kind` where its prerequisites exist; its name, or None.
    fn add(&mut self, rng: &mut Rng, kind: Kind) -> Option<String> {
        let vpcs = self.names(Kind::Vpc);
        let res = match kind {
            Kind::Vpc => Res::Vpc {
                octet: self.free_octet(),
                env: format!("e{}", rng.below(100)),
            },
            Kind::Subnet => {
                let vpc = rng.pick(&vpcs)?;
                Res::Subnet {
                    index: self.free_subnet_index(&vpc),
                    vpc,
                    az: rng.pick(&['a', 'b', 'c']).unwrap(),
                    tier: format!("t{}", rng.below(100)),
                }
            }
            Kind::Igw => {
                let free: Vec<String> = vpcs
                    .into_iter()
                    .filter(|v| self.igw_of(v).is_none())
                    .collect();
                Res::Igw {
                    vpc: rng.pick(&free)?,
                }
            }
            Kind::Nat => {
                // In a subnet of a VPC with an internet gateway (AWS needs one), one per subnet.
                let with_nat: BTreeSet<String> = self
                    .res
                    .values()
                    .filter_map(|r| match r {
                        Res::Nat { subnet } => Some(subnet.clone()),
                        _ => None,
                    })
                    .collect();
                let candidates: Vec<String> = self
                    .names(Kind::Subnet)
                    .into_iter()
                    .filter(|s| !with_nat.contains(s) && self.igw_of(&self.vpc_of(s)).is_some())
                    .collect();
                Res::Nat {
                    subnet: rng.pick(&candidates)?,
                }
            }
            Kind::RouteTable => {
                let vpc = rng.pick(&vpcs)?;
                let mut routes = Vec::new();
                for (i, target) in self.targets(&vpc).into_iter().enumerate() {
                    if rng.chance(70) {
                        routes.push((destination(i), target));
                    }
                }
                let subnets = rng
                    .pick(&self.unassociated_subnets(&vpc))
                    .into_iter()
                    .collect();
                Res::RouteTable {
                    vpc,
                    routes,
                    subnets,
                }
            }
            Kind::SecurityGroup => {
                let vpc = rng.pick(&vpcs)?;
                let sources: Vec<String> = self
                    .names(Kind::SecurityGroup)
                    .into_iter()
                    .filter(|g| {
                        self.vpc_of(g) == vpc
                            && matches!(&self.res[g], Res::SecurityGroup { source: None, .. })
                    })
                    .collect();
                let n = self.fresh("");
                Res::SecurityGroup {
                    vpc,
                    aws_name: format!("sg-{n}"),
                    description: format!("group {n}"),
                    port: 443,
                    source: if rng.chance(50) {
                        rng.pick(&sources)
                    } else {
                        None
                    },
                }
            }
            Kind::Policy => {
                let n = self.fresh("");
                Res::Policy {
                    aws_name: format!("pol-{n}"),
                    description: format!("policy {n}"),
                    action: rng.pick(&ACTIONS).unwrap().to_string(),
                    team: format!("t{}", rng.below(100)),
                }
            }
            Kind::Role => {
                let mut policies = self.names(Kind::Policy);
                policies.retain(|_| rng.chance(50));
                let n = self.fresh("");
                Res::Role {
                    aws_name: format!("role-{n}"),
                    description: format!("role {n}"),
                    policies,
                }
            }
        };
        let name = self.fresh(&kind.name()[..1]);
        self.res.insert(name.clone(), res);
        Some(name)
    }
}

const ACTIONS: [&str; 4] = [
    "s3:GetObject",
    "s3:ListBucket",
    "ec2:DescribeVpcs",
    "iam:GetRole",
];

/// The i-th route destination of a table.
fn destination(i: usize) -> String {
    if i == 0 {
        "0.0.0.0/0".into()
    } else {
        format!("172.16.{i}.0/24")
    }
}

/// The starting landing zone: one VPC with a public and a private subnet, an internet gateway, a NAT
/// gateway, a route table per tier, a security group or two; two policies and a role.
fn initial(rng: &mut Rng) -> Model {
    let mut m = Model::default();
    let vpc = m.add(rng, Kind::Vpc).unwrap();
    let public = m.add(rng, Kind::Subnet).unwrap();
    let private = m.add(rng, Kind::Subnet).unwrap();
    let igw = m.add(rng, Kind::Igw).unwrap();
    let n = m.fresh("n");
    m.res.insert(
        n.clone(),
        Res::Nat {
            subnet: public.clone(),
        },
    );
    for (subnet, target) in [(public, Target::Igw(igw)), (private, Target::Nat(n))] {
        let name = m.fresh("r");
        m.res.insert(
            name,
            Res::RouteTable {
                vpc: vpc.clone(),
                routes: vec![(destination(0), target)],
                subnets: vec![subnet],
            },
        );
    }
    for _ in 0..1 + rng.below(2) {
        m.add(rng, Kind::SecurityGroup);
    }
    m.add(rng, Kind::Policy);
    m.add(rng, Kind::Policy);
    m.add(rng, Kind::Role);
    m
}

/// What a step did, for the replay list.
#[derive(Clone, Debug)]
enum Step {
    /// A configuration edit, applied through the strict proxy.
    Edit(String),
    /// Something done to AWS outside landfall; the plan must show a change, apply must repair it.
    Outside(String, Outside),
    /// An edit whose apply loses the answer of one create call.
    LostAnswer(String, &'static str),
    /// Edits whose apply is killed with SIGKILL after `delay_ms`, then unlocked and applied again.
    Kill(String, u64),
}

#[derive(Clone, Debug)]
enum Outside {
    TagVpc(String),
    TagSubnet(String),
    AddRoute(String),
    DetachPolicy(String),
    OpenPort(String),
    Delete(String),
}

/// One random edit of the configuration; its description.
fn edit(rng: &mut Rng, m: &mut Model) -> String {
    loop {
        let names: Vec<String> = m.res.keys().cloned().collect();
        let roll = rng.below(100);
        if roll < 20 || names.is_empty() {
            let kind = rng.pick(&KINDS).unwrap();
            if let Some(n) = m.add(rng, kind) {
                return format!("add {}", m.address(&n));
            }
            continue;
        }
        let name = rng.pick(&names).unwrap();
        let address = m.address(&name);
        if roll < 32 {
            m.remove(&name);
            return format!("remove {address}");
        }
        if roll < 47 {
            // A rename: through [[moved]], or (uniquely named resources only) with a new AWS name,
            // or for the others a plain new address (delete + create).
            let to = m.fresh(&m.res[&name].kind().name()[..1]);
            // A VPC takes one internet gateway: a new one cannot come before the old one goes.
            let moved = rng.chance(70) || m.res[&name].kind() == Kind::Igw;
            if !moved {
                let n = m.fresh("");
                let index = m.free_subnet_index(&m.vpc_of(&name));
                match m.res.get_mut(&name).unwrap() {
                    Res::Subnet { index: i, .. } => *i = index,
                    Res::SecurityGroup { aws_name, .. } => *aws_name = format!("sg-{n}"),
                    Res::Policy { aws_name, .. } => *aws_name = format!("pol-{n}"),
                    Res::Role { aws_name, .. } => *aws_name = format!("role-{n}"),
                    _ => {}
                }
            }
            m.rename(&name, &to, moved);
            let how = if moved { "[[moved]]" } else { "new name" };
            return format!("rename {address} -> {} ({how})", m.address(&to));
        }
        if roll < 72 {
            if let Some(what) = in_place(rng, m, &name) {
                return format!("in place {address}: {what}");
            }
            continue;
        }
        if let Some(what) = replacing(rng, m, &name) {
            return format!("replace {address}: {what}");
        }
    }
}

fn in_place(rng: &mut Rng, m: &mut Model, name: &str) -> Option<String> {
    let vpc = m.vpc_of(name);
    let targets = if vpc.is_empty() {
        vec![]
    } else {
        m.targets(&vpc)
    };
    let free_subnets = if vpc.is_empty() {
        vec![]
    } else {
        m.unassociated_subnets(&vpc)
    };
    let all_policies = m.names(Kind::Policy);
    let v = rng.below(1000);
    match m.res.get_mut(name).unwrap() {
        Res::Vpc { env, .. } => {
            *env = format!("e{v}");
            Some(format!("env tag {env}"))
        }
        Res::Subnet { tier, .. } => {
            *tier = format!("t{v}");
            Some(format!("tier tag {tier}"))
        }
        Res::RouteTable {
            routes, subnets, ..
        } => match rng.below(3) {
            0 if !routes.is_empty() => {
                let (dest, _) = routes.remove(rng.below(routes.len()));
                Some(format!("route {dest} removed"))
            }
            1 if !free_subnets.is_empty() => {
                let s = rng.pick(&free_subnets).unwrap();
                subnets.push(s.clone());
                Some(format!("associate {s}"))
            }
            _ => {
                let target = rng.pick(&targets)?;
                let dest = (0..5)
                    .map(destination)
                    .find(|d| routes.iter().all(|(x, _)| x != d))?;
                routes.push((dest.clone(), target.clone()));
                Some(format!("route {dest} -> {target:?}"))
            }
        },
        Res::SecurityGroup { port, .. } => {
            *port = if *port == 443 { 8443 } else { 443 };
            Some(format!("port {port}"))
        }
        Res::Policy { action, team, .. } => {
            if rng.chance(50) {
                *action = rng.pick(&ACTIONS).unwrap().to_string();
                Some(format!("document {action}"))
            } else {
                *team = format!("t{v}");
                Some(format!("team tag {team}"))
            }
        }
        Res::Role {
            description,
            policies,
            ..
        } => {
            if rng.chance(50) {
                *description = format!("role changed {v}");
                Some("description".into())
            } else {
                let mut p = all_policies;
                p.retain(|_| rng.chance(50));
                *policies = p;
                Some(format!("policies {policies:?}"))
            }
        }
        Res::Igw { .. } | Res::Nat { .. } => None,
    }
}

fn replacing(rng: &mut Rng, m: &mut Model, name: &str) -> Option<String> {
    let octet = m.free_octet();
    let n = m.fresh("");
    let vpc = m.vpc_of(name);
    let with_nat: BTreeSet<String> = m
        .res
        .values()
        .filter_map(|r| match r {
            Res::Nat { subnet } => Some(subnet.clone()),
            _ => None,
        })
        .collect();
    let other_subnets: Vec<String> = m
        .names(Kind::Subnet)
        .into_iter()
        .filter(|s| !vpc.is_empty() && m.vpc_of(s) == vpc && !with_nat.contains(s))
        .collect();
    match m.res.get_mut(name).unwrap() {
        Res::Vpc { octet: o, .. } => {
            *o = octet;
            Some(format!("cidr 10.{octet}.0.0/16"))
        }
        Res::Subnet { az, .. } => {
            *az = match *az {
                'a' => 'b',
                'b' => 'c',
                _ => 'a',
            };
            Some(format!("availability zone {az}"))
        }
        Res::Nat { subnet } => {
            *subnet = rng.pick(&other_subnets)?;
            Some(format!("into {subnet}"))
        }
        Res::SecurityGroup {
            aws_name,
            description,
            ..
        } => {
            if rng.chance(50) {
                *aws_name = format!("sg-{n}");
                Some(format!("name {aws_name}"))
            } else {
                *description = format!("group {n}");
                Some(format!("description {description}"))
            }
        }
        Res::Policy {
            aws_name,
            description,
            ..
        } => {
            if rng.chance(50) {
                *aws_name = format!("pol-{n}");
                Some(format!("name {aws_name}"))
            } else {
                *description = format!("policy {n}");
                Some(format!("description {description}"))
            }
        }
        Res::Role { aws_name, .. } => {
            *aws_name = format!("role-{n}");
            Some(format!("name {aws_name}"))
        }
        Res::Igw { .. } | Res::RouteTable { .. } => None,
    }
}

/// Something to do to AWS outside landfall, chosen among what the model has.
fn outside(rng: &mut Rng, m: &Model) -> Option<Outside> {
    let name = rng.pick(&m.res.keys().cloned().collect::<Vec<_>>())?;
    let delete = rng.chance(50);
    match &m.res[&name] {
        Res::Vpc { .. } => Some(Outside::TagVpc(name)),
        Res::Subnet { .. } if delete => {
            let holds_nat = m
                .res
                .values()
                .any(|r| matches!(r, Res::Nat { subnet } if *subnet == name));
            (!holds_nat).then_some(Outside::Delete(name))
        }
        Res::Subnet { .. } => Some(Outside::TagSubnet(name)),
        Res::Igw { vpc } => {
            let nats = m.names(Kind::Nat).iter().any(|n| m.vpc_of(n) == *vpc);
            (!nats).then_some(Outside::Delete(name))
        }
        Res::RouteTable { vpc, .. } if !delete => m.igw_of(vpc).map(|_| Outside::AddRoute(name)),
        Res::SecurityGroup { .. } if !delete => Some(Outside::OpenPort(name)),
        Res::SecurityGroup { .. } => (!m.is_source(&name)).then_some(Outside::Delete(name)),
        Res::Role { policies, .. } if !delete => {
            (!policies.is_empty()).then_some(Outside::DetachPolicy(name))
        }
        _ => Some(Outside::Delete(name)),
    }
}

/// The next step: an edit most of the time, sometimes a disturbance.
fn next_step(rng: &mut Rng, m: &mut Model) -> Step {
    loop {
        match rng.below(100) {
            0..=64 => return Step::Edit(edit(rng, m)),
            65..=79 => {
                if let Some(o) = outside(rng, m) {
                    let what = format!("{o:?}");
                    return Step::Outside(what, o);
                }
            }
            80..=89 => {
                let kind = rng.pick(&KINDS).unwrap();
                if let Some(n) = m.add(rng, kind) {
                    return Step::LostAnswer(
                        format!("add {}", m.address(&n)),
                        kind.create_operation(),
                    );
                }
            }
            _ => {
                let edits = [edit(rng, m), edit(rng, m)].join("; ");
                return Step::Kill(edits, rng.below(2000) as u64);
            }
        }
    }
}

/// A route table as read: (VPC id, routes (destination, target id) besides local, associated subnets).
type LiveRouteTable = (String, BTreeSet<(String, String)>, BTreeSet<String>);
/// A security group as read: (VPC id, name, description, ingress (port, CIDR or source group id)).
type LiveSecurityGroup = (String, String, String, BTreeSet<(i32, String)>);

/// The landing zone as the emulator has it, read with the SDK.
#[derive(Debug, Default)]
struct Census {
    /// Ids by `landfall:address` tag (IAM roles by name, policies by ARN).
    ids: BTreeMap<String, Vec<String>>,
    /// VPC id -> (cidr, env tag).
    vpcs: BTreeMap<String, (String, String)>,
    /// Subnet id -> (VPC id, availability zone, cidr, tier tag).
    subnets: BTreeMap<String, (String, String, String, String)>,
    /// Internet gateway id -> attached VPC ids.
    igws: BTreeMap<String, Vec<String>>,
    /// NAT gateway id -> subnet id.
    nats: BTreeMap<String, String>,
    /// Route table id -> (VPC id, routes (destination, target id) besides local, associated subnets).
    route_tables: BTreeMap<String, LiveRouteTable>,
    /// Security group id -> (VPC id, name, description, ingress (port, cidrs, source groups)).
    security_groups: BTreeMap<String, LiveSecurityGroup>,
    /// Role name -> (description, attached policy ARNs).
    roles: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Policy ARN -> (name, description, default document, team tag).
    policies: BTreeMap<String, (String, String, String, String)>,
    /// Elastic IPs allocated.
    addresses: usize,
    /// IAM roles and policies without an address tag.
    untagged: Vec<String>,
}

fn tag<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> String {
    tags.into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(&str, &str)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")))
        .collect()
}

async fn census(moto: &Moto) -> Census {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let ours = || {
        Filter::builder()
            .name("tag-key")
            .values("landfall:address")
            .build()
    };
    let mut c = Census::default();
    let found = |tags: &[aws_sdk_ec2::types::Tag], id: &str| {
        (tag(ec2_tags(tags), "landfall:address"), id.to_string())
    };
    let mut ids: Vec<(String, String)> = Vec::new();
    let out = ec2.describe_vpcs().filters(ours()).send().await.unwrap();
    for v in out.vpcs() {
        let id = v.vpc_id().unwrap();
        ids.push(found(v.tags(), id));
        c.vpcs.insert(
            id.into(),
            (
                v.cidr_block().unwrap().into(),
                tag(ec2_tags(v.tags()), "env"),
            ),
        );
    }
    let out = ec2.describe_subnets().filters(ours()).send().await.unwrap();
    for s in out.subnets() {
        let id = s.subnet_id().unwrap();
        ids.push(found(s.tags(), id));
        c.subnets.insert(
            id.into(),
            (
                s.vpc_id().unwrap().into(),
                s.availability_zone().unwrap().into(),
                s.cidr_block().unwrap().into(),
                tag(ec2_tags(s.tags()), "tier"),
            ),
        );
    }
    let out = ec2
        .describe_internet_gateways()
        .filters(ours())
        .send()
        .await
        .unwrap();
    for g in out.internet_gateways() {
        let id = g.internet_gateway_id().unwrap();
        ids.push(found(g.tags(), id));
        c.igws.insert(
            id.into(),
            g.attachments()
                .iter()
                .filter_map(|a| a.vpc_id().map(String::from))
                .collect(),
        );
    }
    let out = ec2.describe_nat_gateways().send().await.unwrap();
    for n in out.nat_gateways() {
        if n.state().is_some_and(|s| s.as_str() == "deleted") {
            continue;
        }
        let id = n.nat_gateway_id().unwrap();
        ids.push(found(n.tags(), id));
        c.nats.insert(id.into(), n.subnet_id().unwrap().into());
    }
    let out = ec2
        .describe_route_tables()
        .filters(ours())
        .send()
        .await
        .unwrap();
    for t in out.route_tables() {
        let id = t.route_table_id().unwrap();
        ids.push(found(t.tags(), id));
        let routes = t
            .routes()
            .iter()
            .filter(|r| r.gateway_id() != Some("local"))
            .map(|r| {
                let target = r
                    .gateway_id()
                    .or(r.nat_gateway_id())
                    .unwrap_or("(none)")
                    .to_string();
                (
                    r.destination_cidr_block().unwrap_or_default().to_string(),
                    target,
                )
            })
            .collect();
        let subnets = t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(String::from))
            .collect();
        c.route_tables
            .insert(id.into(), (t.vpc_id().unwrap().into(), routes, subnets));
    }
    let out = ec2
        .describe_security_groups()
        .filters(ours())
        .send()
        .await
        .unwrap();
    for g in out.security_groups() {
        let id = g.group_id().unwrap();
        ids.push(found(g.tags(), id));
        let mut rules = BTreeSet::new();
        for p in g.ip_permissions() {
            let port = p.from_port().unwrap_or(-1);
            for r in p.ip_ranges() {
                rules.insert((port, r.cidr_ip().unwrap_or_default().to_string()));
            }
            for pair in p.user_id_group_pairs() {
                rules.insert((port, pair.group_id().unwrap_or_default().to_string()));
            }
        }
        c.security_groups.insert(
            id.into(),
            (
                g.vpc_id().unwrap().into(),
                g.group_name().unwrap().into(),
                g.description().unwrap_or_default().into(),
                rules,
            ),
        );
    }
    c.addresses = ec2
        .describe_addresses()
        .send()
        .await
        .unwrap()
        .addresses()
        .len();

    let roles = iam.list_roles().send().await.unwrap();
    for r in roles.roles() {
        let name = r.role_name();
        let tags = iam.list_role_tags().role_name(name).send().await.unwrap();
        let address = tag(
            tags.tags().iter().map(|t| (t.key(), t.value())),
            "landfall:address",
        );
        if address.is_empty() {
            c.untagged.push(format!("role {name}"));
            continue;
        }
        ids.push((address, name.to_string()));
        let role = iam.get_role().role_name(name).send().await.unwrap();
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap();
        c.roles.insert(
            name.into(),
            (
                role.role()
                    .and_then(|r| r.description())
                    .unwrap_or_default()
                    .into(),
                attached
                    .attached_policies()
                    .iter()
                    .filter_map(|a| a.policy_arn().map(String::from))
                    .collect(),
            ),
        );
    }
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    for p in policies.policies() {
        let arn = p.arn().unwrap();
        let tags = iam.list_policy_tags().policy_arn(arn).send().await.unwrap();
        let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
        let address = tag(tags.clone(), "landfall:address");
        if address.is_empty() {
            c.untagged.push(format!("policy {arn}"));
            continue;
        }
        ids.push((address, arn.to_string()));
        let full = iam.get_policy().policy_arn(arn).send().await.unwrap();
        let full = full.policy().unwrap();
        let version = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(full.default_version_id().unwrap())
            .send()
            .await
            .unwrap();
        c.policies.insert(
            arn.into(),
            (
                p.policy_name().unwrap().into(),
                full.description().unwrap_or_default().into(),
                version
                    .policy_version()
                    .and_then(|v| v.document())
                    .unwrap_or_default()
                    .replace("%3A", ":"),
                tag(tags, "team"),
            ),
        );
    }
    for (address, id) in ids {
        c.ids.entry(address).or_default().push(id);
    }
    c
}

/// Counts a resource tagged with a `[[moved]]` entry's old address under its new one: a move changes
/// state only, and the `landfall:address` tag set at creation keeps the old address (see the note in
/// `differences`).
fn follow_moves(c: &mut Census, m: &Model) {
    for (from, to) in &m.moved {
        if let Some(ids) = c.ids.remove(&format!("main.{from}")) {
            c.ids.entry(format!("main.{to}")).or_default().extend(ids);
        }
    }
}

impl Census {
    /// The one id of `address`, if exactly one resource carries it.
    fn id(&self, address: &str) -> Option<&str> {
        match self.ids.get(address).map(Vec::as_slice) {
            Some([id]) => Some(id),
            _ => None,
        }
    }

    /// Every difference between the emulator and the configuration.
    fn differences(&self, m: &Model) -> Vec<String> {
        let mut d = Vec::new();
        let expected: BTreeSet<String> = m.res.keys().map(|n| m.address(n)).collect();
        for (address, ids) in &self.ids {
            if !expected.contains(address) {
                d.push(format!("orphan: {address} {ids:?}"));
            } else if ids.len() > 1 {
                d.push(format!("duplicate: {address} {ids:?}"));
            }
        }
        for u in &self.untagged {
            d.push(format!("untagged: {u}"));
        }
        let nats = m.names(Kind::Nat).len();
        if self.addresses != nats {
            d.push(format!(
                "{} elastic IPs for {nats} NAT gateways",
                self.addresses
            ));
        }
        // The id the emulator has for a configured name (a marker when missing, so it matches nothing).
        let id = |name: &String| {
            self.id(&m.address(name))
                .map(String::from)
                .unwrap_or_else(|| format!("(no {name})"))
        };
        for (name, r) in &m.res {
            let address = m.address(name);
            let Some(own) = self.id(&address) else {
                if !self.ids.contains_key(&address) {
                    d.push(format!("missing: {address}"));
                }
                continue;
            };
            let mut expect = |what: &str, live: String, want: String| {
                if live != want {
                    d.push(format!("{address} {what}: is {live}, configured {want}"));
                }
            };
            match r {
                Res::Vpc { octet, env } => {
                    let (cidr, tag) = self.vpcs[own].clone();
                    expect("cidr", cidr, format!("10.{octet}.0.0/16"));
                    expect("env tag", tag, env.clone());
                }
                Res::Subnet {
                    vpc,
                    index,
                    az,
                    tier,
                } => {
                    let (v, zone, cidr, tag) = self.subnets[own].clone();
                    expect("vpc", v, id(vpc));
                    expect("zone", zone, format!("eu-west-1{az}"));
                    expect("cidr", cidr, format!("10.{}.{index}.0/24", m.octet(vpc)));
                    expect("tier tag", tag, tier.clone());
                }
                Res::Igw { vpc } => {
                    expect(
                        "attachments",
                        format!("{:?}", self.igws[own]),
                        format!("{:?}", [id(vpc)]),
                    );
                }
                Res::Nat { subnet } => expect("subnet", self.nats[own].clone(), id(subnet)),
                Res::RouteTable {
                    vpc,
                    routes,
                    subnets,
                } => {
                    let (v, live_routes, live_subnets) = self.route_tables[own].clone();
                    expect("vpc", v, id(vpc));
                    let want: BTreeSet<(String, String)> = routes
                        .iter()
                        .map(|(dest, t)| {
                            let (Target::Igw(n) | Target::Nat(n)) = t;
                            (dest.clone(), id(n))
                        })
                        .collect();
                    expect("routes", format!("{live_routes:?}"), format!("{want:?}"));
                    let want: BTreeSet<String> = subnets.iter().map(id).collect();
                    expect("subnets", format!("{live_subnets:?}"), format!("{want:?}"));
                }
                Res::SecurityGroup {
                    vpc,
                    aws_name,
                    description,
                    port,
                    source,
                } => {
                    let (v, n, desc, rules) = self.security_groups[own].clone();
                    expect("vpc", v, id(vpc));
                    expect("name", n, aws_name.clone());
                    expect("description", desc, description.clone());
                    let mut want = BTreeSet::from([(*port, "10.0.0.0/8".to_string())]);
                    if let Some(s) = source {
                        want.insert((8080, id(s)));
                    }
                    expect("ingress", format!("{rules:?}"), format!("{want:?}"));
                }
                Res::Policy {
                    aws_name,
                    description,
                    action,
                    team,
                } => {
                    let (n, desc, document, tag) = self.policies[own].clone();
                    expect("name", n, aws_name.clone());
                    expect("description", desc, description.clone());
                    let has = document.contains(action.as_str());
                    expect(
                        &format!("action in {document}"),
                        has.to_string(),
                        "true".into(),
                    );
                    expect("team tag", tag, team.clone());
                }
                Res::Role {
                    aws_name,
                    description,
                    policies,
                } => {
                    // Roles are found by name: the one carrying the address must be the configured one.
                    expect("name", own.to_string(), aws_name.clone());
                    let (desc, attached) = self.roles[own].clone();
                    expect("description", desc, description.clone());
                    let want: BTreeSet<String> = policies.iter().map(id).collect();
                    expect("policies", format!("{attached:?}"), format!("{want:?}"));
                }
            }
        }
        d
    }
}

/// Does `o` to the emulator, as someone outside landfall would.
async fn disturb(moto: &Moto, m: &Model, c: &Census, o: &Outside) {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let id = |name: &String| {
        let address = m.address(name);
        c.id(&address)
            .unwrap_or_else(|| {
                panic!(
                    "{address} is not exactly once in the emulator: {:?}",
                    c.ids.get(&address)
                )
            })
            .to_string()
    };
    let ec2_tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    match o {
        Outside::TagVpc(n) => {
            ec2.create_tags()
                .resources(id(n))
                .tags(ec2_tag("env", "drifted"))
                .send()
                .await
                .unwrap();
        }
        Outside::TagSubnet(n) => {
            ec2.create_tags()
                .resources(id(n))
                .tags(ec2_tag("tier", "drifted"))
                .send()
                .await
                .unwrap();
        }
        Outside::AddRoute(n) => {
            let igw = m.igw_of(&m.vpc_of(n)).unwrap();
            ec2.create_route()
                .route_table_id(id(n))
                .destination_cidr_block("192.168.99.0/24")
                .gateway_id(id(&igw))
                .send()
                .await
                .unwrap();
        }
        Outside::OpenPort(n) => {
            ec2.authorize_security_group_ingress()
                .group_id(id(n))
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .cidr_ip("0.0.0.0/0")
                .send()
                .await
                .unwrap();
        }
        Outside::DetachPolicy(n) => {
            let Res::Role { policies, .. } = &m.res[n] else {
                unreachable!()
            };
            iam.detach_role_policy()
                .role_name(id(n))
                .policy_arn(id(&policies[0]))
                .send()
                .await
                .unwrap();
        }
        Outside::Delete(n) => match &m.res[n] {
            Res::Subnet { .. } => {
                let tables = ec2
                    .describe_route_tables()
                    .filters(
                        Filter::builder()
                            .name("association.subnet-id")
                            .values(id(n))
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
                for a in tables
                    .route_tables()
                    .iter()
                    .flat_map(|t| t.associations())
                    .filter(|a| a.subnet_id() == Some(id(n).as_str()))
                {
                    ec2.disassociate_route_table()
                        .association_id(a.route_table_association_id().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
                ec2.delete_subnet().subnet_id(id(n)).send().await.unwrap();
            }
            Res::Igw { vpc } => {
                ec2.detach_internet_gateway()
                    .internet_gateway_id(id(n))
                    .vpc_id(id(vpc))
                    .send()
                    .await
                    .unwrap();
                ec2.delete_internet_gateway()
                    .internet_gateway_id(id(n))
                    .send()
                    .await
                    .unwrap();
            }
            Res::Nat { .. } => {
                // As AWS does (the emulator does not), the elastic IP stays allocated, unassociated.
                let nat = id(n);
                let described = ec2
                    .describe_nat_gateways()
                    .nat_gateway_ids(&nat)
                    .send()
                    .await
                    .unwrap();
                let allocation: Vec<String> = described
                    .nat_gateways()
                    .iter()
                    .flat_map(|g| g.nat_gateway_addresses())
                    .filter_map(|a| a.allocation_id().map(String::from))
                    .collect();
                ec2.delete_nat_gateway()
                    .nat_gateway_id(&nat)
                    .send()
                    .await
                    .unwrap();
                let addresses = ec2.describe_addresses().send().await.unwrap();
                let ours = addresses.addresses().iter().filter(|a| {
                    allocation
                        .iter()
                        .any(|x| Some(x.as_str()) == a.allocation_id())
                });
                for association in ours.filter_map(|a| a.association_id()) {
                    ec2.disassociate_address()
                        .association_id(association)
                        .send()
                        .await
                        .unwrap();
                }
            }
            Res::RouteTable { .. } => {
                let table = id(n);
                let described = ec2
                    .describe_route_tables()
                    .route_table_ids(&table)
                    .send()
                    .await
                    .unwrap();
                for a in described
                    .route_tables()
                    .iter()
                    .flat_map(|t| t.associations())
                {
                    ec2.disassociate_route_table()
                        .association_id(a.route_table_association_id().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
                ec2.delete_route_table()
                    .route_table_id(&table)
                    .send()
                    .await
                    .unwrap();
            }
            Res::SecurityGroup { .. } => {
                ec2.delete_security_group()
                    .group_id(id(n))
                    .send()
                    .await
                    .unwrap();
            }
            Res::Role { policies, .. } => {
                for p in policies {
                    iam.detach_role_policy()
                        .role_name(id(n))
                        .policy_arn(id(p))
                        .send()
                        .await
                        .unwrap();
                }
                iam.delete_role().role_name(id(n)).send().await.unwrap();
            }
            Res::Policy { .. } => {
                let arn = id(n);
                for (role, r) in &m.res {
                    if matches!(r, Res::Role { policies, .. } if policies.contains(n)) {
                        iam.detach_role_policy()
                            .role_name(id(role))
                            .policy_arn(&arn)
                            .send()
                            .await
                            .unwrap();
                    }
                }
                let versions = iam
                    .list_policy_versions()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .unwrap();
                for v in versions.versions() {
                    if !v.is_default_version() {
                        iam.delete_policy_version()
                            .policy_arn(&arn)
                            .version_id(v.version_id().unwrap())
                            .send()
                            .await
                            .unwrap();
                    }
                }
                iam.delete_policy().policy_arn(&arn).send().await.unwrap();
            }
            Res::Vpc { .. } => unreachable!("VPCs are not deleted outside"),
        },
    }
}

/// The project: one stack `main` in environment `test`, local backend.
fn project(m: &Model) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("landfall.toml"),
        "[project]\nname = \"sequences\"\nhome_region = \"eu-west-1\"\n\n[defaults]\nparallelism = 4\n\n[backend]\nkind = \"local\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("environments/test")).unwrap();
    std::fs::write(
        d.join("environments/test/env.toml"),
        "stacks = [\"main\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("stacks")).unwrap();
    write_config(d, m);
    dir
}

fn write_config(d: &Path, m: &Model) {
    std::fs::write(d.join("stacks/main.toml"), m.toml()).unwrap();
}

const APPLY: &[&str] = &["apply", "--env", "test", "--auto-approve"];

fn code(out: &Output, want: i32, what: &str) -> Result<(), String> {
    if out.status.code() == Some(want) {
        Ok(())
    } else {
        Err(format!(
            "{what}: exit {:?}, expected {want}\n{}",
            out.status.code(),
            text(out)
        ))
    }
}

/// An apply killed with SIGKILL `delay_ms` after it took its lock; then `force-unlock` with the dead
/// run's lock id (when it held one) and an apply that must finish the job.
fn killed_apply(d: &Path, moto: &Moto, delay_ms: u64) -> Result<&'static str, String> {
    let slow = FaultProxy::start(moto, &["--strict", "--slow", "0.5"]);
    let mut child = command(d, &slow.endpoint, moto, APPLY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = d.join(".landfall/state/test/main.json.lock");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !lock.exists() && child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            return Err("the apply never took its lock".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = child.kill(); // SIGKILL: no cleanup at all (it may have finished already)
    child.wait().unwrap();
    // Requests the dead run sent are still held by the proxy; let them land, as AWS would have.
    std::thread::sleep(Duration::from_secs(2));
    drop(slow);
    let held = std::fs::read_to_string(&lock).ok().map(|t| {
        let lock: serde_json::Value = serde_json::from_str(&t).unwrap();
        lock["id"].as_str().unwrap().to_string()
    });
    let out = landfall(d, moto, APPLY);
    if out.status.code() == Some(0) {
        let Some(id) = held else {
            return Ok("it had finished before the kill");
        };
        // The dead run had made every change, but not unlocked: an apply with nothing to do takes
        // no lock; the next one with changes would fail. Clear it as the user would.
        code(
            &landfall(d, moto, &["force-unlock", "--env", "test", &id]),
            0,
            "force-unlock",
        )?;
        return Ok("its changes were all made; force-unlock by the lock file's id");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let id = lock_id(&stderr).ok_or_else(|| format!("apply after kill -9:\n{}", text(&out)))?;
    code(
        &landfall(d, moto, &["force-unlock", "--env", "test", &id]),
        0,
        "force-unlock",
    )?;
    code(&landfall(d, moto, APPLY), 0, "apply after force-unlock")?;
    Ok("force-unlock by the dead run's lock id, apply again")
}

/// Runs one seed; the steps taken, and the first failure.
async fn run_seed(seed: u64, steps: usize) -> (Vec<String>, Result<(), String>) {
    let mut rng = Rng(seed);
    let mut m = initial(&mut rng);
    let moto = Moto::start();
    let strict = FaultProxy::start(&moto, &["--strict"]);
    let dir = project(&m);
    let d = dir.path();
    let mut log = vec!["create the initial landing zone".to_string()];
    let result = async {
        code(
            &landfall_via(d, &strict.endpoint, &moto, APPLY),
            0,
            "first apply",
        )?;
        verify(d, &moto, &m).await?;
        for _ in 0..steps {
            let step = next_step(&mut rng, &mut m);
            log.push(match &step {
                Step::Edit(e) => e.clone(),
                Step::Outside(w, _) => format!("outside landfall: {w}"),
                Step::LostAnswer(e, op) => format!("{e} (answer to {op} lost)"),
                Step::Kill(e, ms) => format!("{e} (apply killed {ms} ms after locking)"),
            });
            eprintln!(
                "seed {seed} step {}: {}",
                log.len() - 1,
                log.last().unwrap()
            );
            write_config(d, &m);
            match &step {
                Step::Edit(_) => {
                    code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply")?
                }
                Step::Outside(_, o) => {
                    // The census as `verify` reads it: a moved resource keeps its old address tag.
                    let mut found = census(&moto).await;
                    follow_moves(&mut found, &m);
                    disturb(&moto, &m, &found, o).await;
                    code(
                        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
                        2,
                        "plan after a change outside landfall shows it",
                    )?;
                    code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply")?;
                }
                Step::LostAnswer(_, op) => {
                    let lossy = FaultProxy::start(&moto, &["--strict", "--lose-response", op]);
                    code(&landfall_via(d, &lossy.endpoint, &moto, APPLY), 0, "apply")?;
                }
                Step::Kill(_, ms) => {
                    let recovery = killed_apply(d, &moto, *ms)?;
                    log.last_mut().unwrap().push_str(&format!(": {recovery}"));
                }
            }
            verify(d, &moto, &m).await?;
        }
        Ok(())
    }
    .await;
    (log, result)
}

/// Census = configuration, and the next plan is empty.
async fn verify(d: &Path, moto: &Moto, m: &Model) -> Result<(), String> {
    let mut found = census(moto).await;
    follow_moves(&mut found, m);
    let differences = found.differences(m);
    if !differences.is_empty() {
        return Err(format!(
            "the emulator differs from the configuration:\n  {}\nconfiguration:\n{}",
            differences.join("\n  "),
            m.toml()
        ));
    }
    let out = landfall(d, moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    code(&out, 0, "the next plan is empty")
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn random_change_sequences_end_as_configured() {
    let seeds: Vec<u64> = match (
        env_number("LANDFALL_SEQ_SEED"),
        env_number("LANDFALL_SEQ_SEEDS"),
    ) {
        (Some(seed), _) => vec![seed],
        (None, Some(n)) => {
            let first = env_number("LANDFALL_SEQ_FIRST").unwrap_or(1);
            (first..first + n).collect()
        }
        (None, None) => SEEDS.to_vec(),
    };
    let steps = env_number("LANDFALL_SEQ_STEPS").map_or(STEPS, |s| s as usize);
    let mut failed = Vec::new();
    for seed in seeds {
        let (log, result) = run_seed(seed, steps).await;
        let listing: String = log
            .iter()
            .enumerate()
            .map(|(i, s)| format!("  {i}. {s}\n"))
            .collect();
        match result {
            Ok(()) => println!("seed {seed}: ok after {} steps\n{listing}", log.len() - 1),
            Err(e) => {
                println!(
                    "seed {seed}: FAILED at step {} (replay: LANDFALL_SEQ_SEED={seed} LANDFALL_SEQ_STEPS={steps})\n{listing}{e}\n",
                    log.len() - 1
                );
                failed.push(seed);
            }
        }
    }
    assert!(failed.is_empty(), "failing seeds: {failed:?}");
}

/// Found by seed 1: a policy replaced under the same name (its description forces replacement) keeps
/// its ARN; deleting the old one detached it from the role, and the role's update compared with state
/// (which still listed the ARN) and attached nothing.
#[tokio::test(flavor = "multi_thread")]
async fn replaced_policy_with_the_same_arn_stays_attached_to_its_role() {
    let mut rng = Rng(0);
    let mut m = Model::default();
    let policy = m.add(&mut rng, Kind::Policy).unwrap();
    m.res.insert(
        "ops".into(),
        Res::Role {
            aws_name: "ops".into(),
            description: "operators".into(),
            policies: vec![policy.clone()],
        },
    );
    let moto = Moto::start();
    let dir = project(&m);
    let d = dir.path();
    code(&landfall(d, &moto, APPLY), 0, "apply").unwrap();
    verify(d, &moto, &m).await.unwrap();
    if let Res::Policy { description, .. } = m.res.get_mut(&policy).unwrap() {
        *description = "replaced".into();
    }
    write_config(d, &m);
    code(&landfall(d, &moto, APPLY), 0, "apply").unwrap();
    verify(d, &moto, &m).await.unwrap();
}

/// Found by seed 9: a subnet renamed without a `[[moved]]` entry, its CIDR block kept, was created
/// again before the old one was deleted, and AWS refused the second subnet with the same CIDR block
/// (InvalidSubnet.Conflict) half-way through the apply. Plan now refuses it and prints the entry.
#[tokio::test(flavor = "multi_thread")]
async fn subnet_renamed_without_moved_is_refused_by_plan() {
    let mut rng = Rng(0);
    let mut m = Model::default();
    m.add(&mut rng, Kind::Vpc).unwrap();
    let subnet = m.add(&mut rng, Kind::Subnet).unwrap();
    let moto = Moto::start();
    let dir = project(&m);
    let d = dir.path();
    code(&landfall(d, &moto, APPLY), 0, "apply").unwrap();
    m.rename(&subnet, "renamed", false);
    write_config(d, &m);
    let out = landfall(d, &moto, &["plan", "--env", "test"]);
    code(&out, 1, "plan").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "[[moved]]\nfrom = \"subnet.{subnet}\"\nto = \"subnet.renamed\"\n"
        )),
        "{}",
        text(&out)
    );
    m.moved
        .push((format!("subnet.{subnet}"), "subnet.renamed".into()));
    write_config(d, &m);
    code(&landfall(d, &moto, APPLY), 0, "apply").unwrap();
    verify(d, &moto, &m).await.unwrap();
}

/// Found by seed 10: a route table renamed without `[[moved]]` (the old one deleted, a new one
/// associated with the same subnet, in parallel). AWS refuses the new association while the old one
/// stands (Resource.AlreadyAssociated; the strict proxy does too); landfall then moves the
/// association, but when the old table had let go in the meantime it found none and failed.
#[tokio::test(flavor = "multi_thread")]
async fn route_table_renamed_without_moved_takes_over_its_subnets() {
    let mut rng = Rng(0);
    let mut m = Model::default();
    let vpc = m.add(&mut rng, Kind::Vpc).unwrap();
    let subnet = m.add(&mut rng, Kind::Subnet).unwrap();
    m.res.insert(
        "table".into(),
        Res::RouteTable {
            vpc,
            routes: vec![],
            subnets: vec![subnet],
        },
    );
    let moto = Moto::start();
    let strict = FaultProxy::start(&moto, &["--strict"]);
    let dir = project(&m);
    let d = dir.path();
    code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply").unwrap();
    for (i, to) in ["a", "b", "c", "d"].iter().enumerate() {
        let from = if i == 0 {
            "table"
        } else {
            ["a", "b", "c"][i - 1]
        };
        m.rename(from, to, false);
        write_config(d, &m);
        code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply").unwrap();
        verify(d, &moto, &m).await.unwrap();
    }
}

/// Found by seed 15: a run killed in the middle of a VPC replacement (the new VPC created, the old one
/// deposed, its dependents not moved yet). The next apply forgot the new VPC's values because the old
/// one's delete shares its address, and every dependent failed with "values still unknown".
#[tokio::test(flavor = "multi_thread")]
async fn dependents_of_an_interrupted_vpc_replacement_move_to_the_new_vpc() {
    let mut rng = Rng(0);
    let mut m = Model::default();
    let vpc = m.add(&mut rng, Kind::Vpc).unwrap();
    m.add(&mut rng, Kind::Subnet).unwrap();
    m.add(&mut rng, Kind::Igw).unwrap();
    m.add(&mut rng, Kind::SecurityGroup).unwrap();
    let moto = Moto::start();
    let strict = FaultProxy::start(&moto, &["--strict"]);
    let dir = project(&m);
    let d = dir.path();
    code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply").unwrap();

    // What the killed run left: the new VPC exists and is the current object in state, the old one
    // is deposed, and everything else still sits in the old one.
    let octet = m.free_octet();
    let cidr = format!("10.{octet}.0.0/16");
    let address = m.address(&vpc);
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let new = ec2.create_vpc().cidr_block(&cidr).send().await.unwrap();
    let new_id = new.vpc().unwrap().vpc_id().unwrap().to_string();
    let Res::Vpc { env, .. } = &m.res[&vpc] else {
        unreachable!()
    };
    let tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    ec2.create_tags()
        .resources(&new_id)
        .tags(tag("landfall:address", &address))
        .tags(tag("env", env))
        .send()
        .await
        .unwrap();
    let path = d.join(".landfall/state/test/main.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let resources = state["resources"].as_array_mut().unwrap();
    let current = resources
        .iter_mut()
        .find(|r| r["address"] == address.as_str())
        .unwrap();
    let deposed = current.clone();
    current["id"] = new_id.clone().into();
    current["attributes"]["id"] = new_id.into();
    current["attributes"]["cidr_block"] = cidr.into();
    state["deposed"] = serde_json::json!([deposed]);
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    if let Res::Vpc { octet: o, .. } = m.res.get_mut(&vpc).unwrap() {
        *o = octet;
    }
    write_config(d, &m);

    code(&landfall_via(d, &strict.endpoint, &moto, APPLY), 0, "apply").unwrap();
    verify(d, &moto, &m).await.unwrap();
}
