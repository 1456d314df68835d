//! Resolution of small projects written to a temporary folder.

use super::{Resolved, resolve};
use crate::expr::Value;
use crate::load;

const PROJECT: &str = "[project]\nname = \"t\"\nhome_region = \"eu-west-1\"\n[defaults]\ntags = { managed-by = \"landfall\" }\n";

/// Writes `files` (path, text) under a temporary project and resolves environment `test`.
fn resolve_files(files: &[(&str, &str)]) -> Result<Resolved, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("landfall.toml"), PROJECT).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let loaded = match load::load(dir.path(), "test") {
        Ok(l) => l,
        Err(load::LoadError::Invalid(sources, d)) => {
            return Err(crate::diag::render(&sources, &d, false));
        }
        Err(e) => return Err(e.to_string()),
    };
    let (sources, result) = resolve(loaded);
    result.map_err(|d| crate::diag::render(&sources, &d, false))
}

fn one_stack(stack: &str) -> Result<Resolved, String> {
    resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        ("stacks/s.toml", stack),
    ])
}

fn get<'r>(r: &'r Resolved, address: &str) -> &'r super::Instance {
    r.instances
        .iter()
        .find(|i| i.address == address)
        .unwrap_or_else(|| {
            panic!(
                "no {address} in {:?}",
                r.instances.iter().map(|i| &i.address).collect::<Vec<_>>()
            )
        })
}

fn deps(r: &Resolved, address: &str) -> Vec<String> {
    get(r, address)
        .deps
        .iter()
        .map(|d| r.instances[d.0 as usize].address.clone())
        .collect()
}

#[test]
fn count_and_for_each_give_indexed_addresses() {
    let r = one_stack(
        r#"
[vpc.main]
count = 2
cidr_block = '${cidrsubnet("10.0.0.0/8", 8, count.index)}'

[subnet.a]
for_each = { x = 0, y = 1 }
vpc_id = "${vpc.main[1].id}"
cidr_block = "${cidrsubnet(vpc.main[1].cidr_block, 8, each.value)}"
availability_zone = 'eu-west-1${each.key == "x" ? "a" : "b"}'
"#,
    )
    .unwrap();
    assert_eq!(
        get(&r, "s.vpc.main[0]").attrs["cidr_block"],
        Value::String("10.0.0.0/16".into())
    );
    assert_eq!(
        get(&r, "s.vpc.main[1]").attrs["cidr_block"],
        Value::String("10.1.0.0/16".into())
    );
    let y = get(&r, "s.subnet.a[\"y\"]");
    assert_eq!(y.attrs["cidr_block"], Value::String("10.1.1.0/24".into()));
    assert_eq!(
        y.attrs["availability_zone"],
        Value::String("eu-west-1b".into())
    );
    assert_eq!(
        deps(&r, "s.subnet.a[\"y\"]"),
        ["s.vpc.main[1]"],
        "only the instance referenced"
    );
}

#[test]
fn computed_attributes_are_unknown_and_remember_their_resource() {
    let r = one_stack(
        "[vpc.v]\ncidr_block = \"10.0.0.0/16\"\n[internet_gateway.g]\nvpc_id = \"${vpc.v.id}\"\n",
    )
    .unwrap();
    let vpc = r
        .instances
        .iter()
        .position(|i| i.address == "s.vpc.v")
        .unwrap();
    match &get(&r, "s.internet_gateway.g").attrs["vpc_id"] {
        Value::Unknown(Some(origin)) => assert_eq!(origin.0 as usize, vpc),
        other => panic!("expected an unknown id, got {other:?}"),
    }
}

#[test]
fn a_whole_interpolation_keeps_its_type_and_templates_make_strings() {
    let r = one_stack(
        r#"
[locals]
arns = ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"]
n = 3
[iam_group.g]
name = "g-${local.n}"
managed_policy_arns = '${concat(local.arns, [format("%s-%d", "arn:aws:iam::aws:policy/X", local.n)])}'
"#,
    )
    .unwrap();
    let g = get(&r, "s.iam_group.g");
    assert_eq!(g.attrs["name"], Value::String("g-3".into()));
    assert_eq!(
        g.attrs["managed_policy_arns"],
        Value::List(vec![
            Value::String("arn:aws:iam::aws:policy/A".into()),
            Value::String("arn:aws:iam::aws:policy/B".into()),
            Value::String("arn:aws:iam::aws:policy/X-3".into())
        ])
    );
}

#[test]
fn defaults_fill_unset_attributes_and_default_tags_merge_under_explicit_ones() {
    let r = one_stack(
        "[vpc.v]\ncidr_block = \"10.0.0.0/16\"\ntags = { Name = \"v\", managed-by = \"me\" }\n",
    )
    .unwrap();
    let v = get(&r, "s.vpc.v");
    assert_eq!(v.attrs["enable_dns_support"], Value::Bool(true));
    let Value::Map(tags) = &v.attrs["tags"] else {
        panic!()
    };
    assert_eq!(tags["managed-by"], Value::String("me".into()));
    assert_eq!(tags["Name"], Value::String("v".into()));
    assert_eq!(v.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn module_instances_inherit_account_and_region_and_expose_outputs() {
    let r = resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"org\", \"net\"]\n"),
        (
            "stacks/org.toml",
            "[organization.o]\n[account.a]\nname = \"a\"\nemail = \"a@example.com\"\nparent_id = \"${organization.o.root_id}\"\n",
        ),
        (
            "stacks/net.toml",
            r#"
[module.n]
source = "net"
account = "${stack.org.account.a.id}"
region = "eu-central-1"
cidr = "10.0.0.0/16"

[security_group.sg]
name = "sg"
vpc_id = "${module.n.vpc_id}"
account = "${stack.org.account.a.id}"
"#,
        ),
        (
            "modules/net/main.toml",
            "[input.cidr]\ntype = \"cidr\"\n[vpc.this]\ncidr_block = \"${input.cidr}\"\n[output.vpc_id]\nvalue = \"${vpc.this.id}\"\n",
        ),
    ])
    .unwrap();
    let vpc = get(&r, "net.module.n.vpc.this");
    assert_eq!(vpc.region.as_deref(), Some("eu-central-1"));
    assert!(
        matches!(vpc.account, Value::Unknown(Some(_))),
        "{:?}",
        vpc.account
    );
    assert_eq!(deps(&r, "net.module.n.vpc.this"), ["org.account.a"]);
    assert_eq!(
        deps(&r, "net.security_group.sg"),
        ["org.account.a", "net.module.n.vpc.this"]
    );
}

#[test]
fn accounts_in_finds_accounts_in_nested_ous_only() {
    let r = one_stack(
        r#"
[organization.o]
[organizational_unit.w]
name = "W"
parent_id = "${organization.o.root_id}"
[organizational_unit.p]
name = "P"
parent_id = "${organizational_unit.w.id}"
[organizational_unit.other]
name = "Other"
parent_id = "${organization.o.root_id}"
[account.inw]
name = "inw"
email = "w@example.com"
parent_id = "${organizational_unit.w.id}"
[account.inp]
name = "inp"
email = "p@example.com"
parent_id = "${organizational_unit.p.id}"
[account.elsewhere]
name = "elsewhere"
email = "e@example.com"
parent_id = "${organizational_unit.other.id}"
[iam_account_alias.x]
for_each = "${accounts_in(organizational_unit.w)}"
account = "${each.value.id}"
alias = "acme-${each.key}"
"#,
    )
    .unwrap();
    let aliases: Vec<&str> = r
        .instances
        .iter()
        .filter(|i| i.kind.name == "iam_account_alias")
        .map(|i| i.address.as_str())
        .collect();
    assert_eq!(
        aliases,
        [
            "s.iam_account_alias.x[\"inw\"]",
            "s.iam_account_alias.x[\"inp\"]"
        ]
    );
    assert_eq!(
        deps(&r, "s.iam_account_alias.x[\"inp\"]"),
        ["s.account.inp"]
    );
}

#[test]
fn environment_includes_merge_three_levels_with_the_nearest_file_winning() {
    let r = resolve_files(&[
        ("environments/base.toml", "[vars]\na = \"base\"\nb = \"base\"\nc = \"base\"\n[vars.t]\nx = 1\n"),
        ("environments/mid.toml", "include = [\"base.toml\"]\nstacks = [\"s\"]\n[vars]\nb = \"mid\"\nc = \"mid\"\n[vars.t]\ny = 2\n"),
        ("environments/test/env.toml", "include = [\"../mid.toml\"]\n[vars]\nc = \"env\"\n"),
        ("stacks/s.toml", "[iam_group.g]\nname = \"${var.a}-${var.b}-${var.c}-${var.t.x}${var.t.y}\"\n"),
    ])
    .unwrap();
    assert_eq!(
        get(&r, "s.iam_group.g").attrs["name"],
        Value::String("base-mid-env-12".into())
    );
}

#[test]
fn module_validation_rules_reject_bad_inputs() {
    let err = resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        ("stacks/s.toml", "[module.m]\nsource = \"m\"\ncidr = \"10.0.0.0/24\"\n"),
        (
            "modules/m/in.toml",
            "[input.cidr]\ntype = \"cidr\"\n[[input.cidr.validation]]\ncondition = \"${tonumber(split(\\\"/\\\", input.cidr)[1]) <= 20}\"\nmessage = \"needs a /20 or larger\"\n",
        ),
    ])
    .unwrap_err();
    assert!(
        err.contains("invalid value for input `cidr`: needs a /20 or larger"),
        "{err}"
    );
    assert!(err.contains("--> stacks/s.toml:3:8"), "{err}");
}

#[test]
fn errors_in_several_places_are_all_reported() {
    let err = one_stack("[vpc.a]\ncidr_block = \"10.0.0.0/33\"\n[vpc.b]\ncidr_block = \"${var.nope}\"\n[vpc.c]\ncidr = \"x\"\n").unwrap_err();
    assert!(err.contains("not a valid IPv4 CIDR block"), "{err}");
    assert!(err.contains("unknown variable `var.nope`"), "{err}");
    assert!(err.contains("unknown attribute `cidr` on vpc"), "{err}");
    assert!(
        err.contains("Found") || err.matches("error:").count() >= 3,
        "{err}"
    );
}

#[test]
fn an_id_passed_through_each_value_still_orders_the_resource() {
    let r = one_stack(
        "[vpc.main]\ncidr_block = \"10.0.0.0/16\"\n[internet_gateway.g]\nfor_each = { main = \"${vpc.main.id}\" }\nvpc_id = \"${each.value}\"\n",
    )
    .unwrap();
    assert_eq!(deps(&r, "s.internet_gateway.g[\"main\"]"), ["s.vpc.main"]);
}

#[test]
fn modules_may_use_modules() {
    let r = resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        ("stacks/s.toml", "[module.outer]\nsource = \"outer\"\ncidr = \"10.0.0.0/16\"\n"),
        (
            "modules/outer/main.toml",
            "[input.cidr]\ntype = \"cidr\"\n[module.inner]\nsource = \"inner\"\ncidr = \"${input.cidr}\"\n[output.vpc_id]\nvalue = \"${module.inner.vpc_id}\"\n",
        ),
        (
            "modules/inner/main.toml",
            "[input.cidr]\ntype = \"cidr\"\n[vpc.this]\ncidr_block = \"${input.cidr}\"\n[output.vpc_id]\nvalue = \"${vpc.this.id}\"\n",
        ),
    ])
    .unwrap();
    let vpc = get(&r, "s.module.outer.module.inner.vpc.this");
    assert_eq!(vpc.attrs["cidr_block"], Value::String("10.0.0.0/16".into()));
}

#[test]
fn organization_kinds_wait_for_the_organization_without_depends_on() {
    // Declared before the organization, in another stack than it, and without referencing it.
    let r = resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"guard\", \"org\"]\n"),
        (
            "stacks/guard.toml",
            r#"
[policy.deny]
name = "deny"
content = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "s3:*", Resource = "*" }] }

[policy_attachment.deny]
policy_id = "${policy.deny.id}"
target_id = "r-abcd"

[delegated_administrator.audit]
account_id = "123456789012"
service_principal = "guardduty.amazonaws.com"

[vpc.unrelated]
cidr_block = "10.0.0.0/16"
"#,
        ),
        (
            "stacks/org.toml",
            "[organization.main]\nenabled_policy_types = [\"SERVICE_CONTROL_POLICY\"]\n",
        ),
    ])
    .unwrap();
    assert_eq!(deps(&r, "guard.policy.deny"), ["org.organization.main"]);
    assert_eq!(
        deps(&r, "guard.policy_attachment.deny"),
        ["org.organization.main", "guard.policy.deny"]
    );
    assert_eq!(
        deps(&r, "guard.delegated_administrator.audit"),
        ["org.organization.main"]
    );
    assert!(deps(&r, "guard.vpc.unrelated").is_empty());
    // Instances stay in dependency order: every dependency comes first.
    for (i, inst) in r.instances.iter().enumerate() {
        assert!(
            inst.deps.iter().all(|d| (d.0 as usize) < i),
            "{}",
            inst.address
        );
    }
}

#[test]
fn an_organization_that_depends_on_a_policy_is_not_made_to_wait_for_it() {
    let r = one_stack(
        r#"
[policy.tags]
name = "tags"
type = "TAG_POLICY"
content = { tags = {} }

[organization.main]
depends_on = ["policy.tags"]

[organizational_unit.a]
name = "A"
parent_id = "r-abcd"
"#,
    )
    .unwrap();
    assert_eq!(deps(&r, "s.organization.main"), ["s.policy.tags"]);
    assert!(deps(&r, "s.policy.tags").is_empty());
    assert_eq!(deps(&r, "s.organizational_unit.a"), ["s.organization.main"]);
}

#[test]
fn here_region_is_where_the_module_instance_runs() {
    let r = resolve_files(&[
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        (
            "stacks/s.toml",
            "[module.far]\nsource = \"m\"\nregion = \"eu-central-1\"\n[module.near]\nsource = \"m\"\n[vpc.top]\ncidr_block = \"10.0.0.0/16\"\ntags = { at = \"${here.region}\" }\n",
        ),
        (
            "modules/m/main.toml",
            "[vpc.this]\ncidr_block = \"10.0.0.0/16\"\ntags = { at = \"${here.region}\" }\n",
        ),
    ])
    .unwrap();
    let at = |a: &str| match &get(&r, a).attrs["tags"] {
        Value::Map(m) => m["at"].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        at("s.module.far.vpc.this"),
        Value::String("eu-central-1".into())
    );
    assert_eq!(
        at("s.module.near.vpc.this"),
        Value::String("eu-west-1".into())
    );
    assert_eq!(at("s.vpc.top"), Value::String("eu-west-1".into()));
}

#[test]
fn moved_entries_resolve_to_full_addresses_modules_and_keys_included() {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in [
        ("landfall.toml", PROJECT),
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        (
            "stacks/s.toml",
            "[vpc.main]\ncidr_block = \"10.0.0.0/16\"\n\
             [module.net]\nsource = \"m\"\nfor_each = { b = 1 }\n\
             [[moved]]\nfrom = \"vpc.old\"\nto = \"vpc.main\"\n\
             [[moved]]\nfrom = \"module.net[\\\"a\\\"]\"\nto = \"module.net[\\\"b\\\"]\"\n",
        ),
        (
            "modules/m/main.toml",
            "[vpc.v]\ncidr_block = \"10.1.0.0/16\"\n",
        ),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let loaded = load::load(dir.path(), "test").unwrap();
    let moves: Vec<(String, String)> = super::moves(&loaded.stacks)
        .into_iter()
        .map(|m| (m.from, m.to))
        .collect();
    let (sources, resolved) = resolve(loaded);
    if let Err(d) = resolved {
        panic!("{}", crate::diag::render(&sources, &d, false));
    }
    assert_eq!(
        moves,
        [
            ("s.vpc.old".to_string(), "s.vpc.main".to_string()),
            (
                "s.module.net[\"a\"]".to_string(),
                "s.module.net[\"b\"]".to_string()
            )
        ]
    );
}

#[test]
fn moved_entries_that_do_not_describe_a_rename_are_errors() {
    let cases = [
        // `to` must be declared.
        (
            "[[moved]]\nfrom = \"vpc.old\"\nto = \"vpc.new\"\n",
            "which is not configured",
        ),
        // `from` must not be.
        (
            "[vpc.old]\ncidr_block = \"10.1.0.0/16\"\n[[moved]]\nfrom = \"vpc.old\"\nto = \"vpc.main\"\n",
            "which is still configured",
        ),
        // Same kind on both sides.
        (
            "[[moved]]\nfrom = \"subnet.old\"\nto = \"vpc.main\"\n",
            "from a resource of kind `subnet` to a resource of kind `vpc`",
        ),
        // No chains.
        (
            "[[moved]]\nfrom = \"vpc.a\"\nto = \"vpc.b\"\n[[moved]]\nfrom = \"vpc.b\"\nto = \"vpc.main\"\n",
            "form a chain",
        ),
        // Nothing moved twice.
        (
            "[[moved]]\nfrom = \"vpc.a\"\nto = \"vpc.main\"\n[[moved]]\nfrom = \"vpc.a\"\nto = \"vpc.main\"\n",
            "is moved twice",
        ),
    ];
    for (moved, expected) in cases {
        let stack = format!("[vpc.main]\ncidr_block = \"10.0.0.0/16\"\n{moved}");
        let e = one_stack(&stack).expect_err(moved);
        assert!(e.contains(expected), "{moved}\n=> {e}");
        assert!(e.contains("stacks/s.toml:"), "{e}");
    }
    // Gaining an index is a move under the old address, not a conflict.
    let r = one_stack(
        "[vpc.main]\ncount = 1\ncidr_block = \"10.0.0.0/16\"\n[[moved]]\nfrom = \"vpc.main\"\nto = \"vpc.main[0]\"\n",
    )
    .unwrap();
    assert_eq!(r.instances[0].address, "s.vpc.main[0]");
}

/// Regression: a whole resource in a module output (the baseline's `private_subnets`, read by the
/// network hub as `module.baseline[key].private_subnets.a.id`) kept its computed attributes unknown
/// even once apply had created the resource, so the reader failed with "values still unknown at
/// apply time". They now come from what apply has learnt, like a direct reference's.
#[test]
fn whole_resources_in_module_outputs_take_known_values_during_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("landfall.toml"), PROJECT).unwrap();
    for (path, text) in [
        ("environments/test/env.toml", "stacks = [\"s\"]\n"),
        (
            "stacks/s.toml",
            "[module.n]\nsource = \"net\"\n\n[security_group.sg]\nname = \"sg\"\nvpc_id = \"${module.n.vpcs.a.id}\"\n",
        ),
        (
            "modules/net/main.toml",
            "[vpc.this]\nfor_each = { a = \"10.0.0.0/16\" }\ncidr_block = \"${each.value}\"\n[output.vpcs]\nvalue = \"${vpc.this}\"\n",
        ),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let resolve = |known: &super::Known| {
        let loaded = load::load(dir.path(), "test").unwrap();
        super::resolve_with(loaded, known).1.unwrap()
    };
    let before = resolve(&super::Known::default());
    assert!(matches!(
        get(&before, "s.security_group.sg").attrs["vpc_id"],
        Value::Unknown(Some(_))
    ));
    let mut known = super::Known::default();
    let mut vpc = serde_json::Map::new();
    vpc.insert("id".into(), "vpc-123".into());
    known.attrs.insert("s.module.n.vpc.this[\"a\"]".into(), vpc);
    let during = resolve(&known);
    assert_eq!(
        get(&during, "s.security_group.sg").attrs["vpc_id"],
        Value::String("vpc-123".into())
    );
    assert_eq!(
        deps(&during, "s.security_group.sg"),
        ["s.module.n.vpc.this[\"a\"]"]
    );
}

/// What a plan keeps of a resource in state for resolution: its computed attributes only (the
/// configured ones come from the configuration), all of them for a kind it does not know.
#[test]
fn known_values_keep_only_computed_attributes() {
    let attrs: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
        serde_json::json!({"id": "vpc-1", "cidr_block": "10.0.0.0/16", "tags": {"a": "b"}}),
    )
    .unwrap();
    let mut known = super::Known::default();
    known.learn("s.vpc.main", "vpc", &attrs);
    known.learn("s.future.x", "no_such_kind", &attrs);
    let names = |address: &str| -> Vec<String> { known.attrs[address].keys().cloned().collect() };
    assert_eq!(names("s.vpc.main"), ["id"]);
    assert_eq!(names("s.future.x"), ["id", "cidr_block", "tags"]);
}
