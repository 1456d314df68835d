//! `security_group`: a security group with its ingress and egress rules, both exclusive.
//!
//! Rules are compared one source at a time: a configured rule with several `cidr_blocks` stands for
//! one AWS rule per block. Read groups AWS's rules back into the configuration's shape: one object per
//! (protocol, ports, description) holding all its `cidr_blocks`, and one object per source security
//! group. Write rules that way (not the same protocol, ports and description split over two objects)
//! so an unchanged group reads back equal. Protocol `-1` (all traffic) carries no ports. IPv6 ranges
//! and prefix lists are neither reported nor touched.
//!
//! Create revokes the egress rule AWS adds to every new group unless it is configured, then applies the
//! configured rules; update revokes the extra rules, authorizes the missing ones and rewrites
//! descriptions in place (UpdateSecurityGroupRuleDescriptions*).

use super::{
    created, describe_batched, filter, find_created, gone, ignore_not_found, live, object_list,
    opt_str, paginate, required, str_list, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, SecurityGroup, UserIdGroupPair,
};
use serde_json::Value;
use std::collections::BTreeMap;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let groups = describe_batched(
        ids,
        "group-id",
        |f| describe(&ec2, f),
        |g: &SecurityGroup| (g.group_id(), g.tags()),
    )
    .await?;
    Ok(groups.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateSecurityGroup";
    let ec2 = cx.ec2().await?;
    let name = required(desired, "name", op)?;
    let description = opt_str(desired, "description").unwrap_or("Managed by landfall");
    let vpc_id = required(desired, "vpc_id", op)?;
    // Parse the rules before creating anything.
    let ingress = desired_rules(desired, "ingress")?;
    let egress = desired_rules(desired, "egress")?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_security_group()
                .group_name(name)
                .description(description)
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), SecurityGroup::tags),
    )
    .await?;
    let (id, have_ingress, have_egress) = match outcome {
        // A new group has AWS's one default rule, all traffic out to anywhere (and to `::/0` in a
        // VPC with IPv6, which landfall does not manage): no need to ask.
        Created::Sent(out) => (
            out.group_id().map(str::to_string),
            Rules::new(),
            default_egress(),
        ),
        // Found after a lost answer: it may have had rules added since; converge from what it has.
        Created::Found(group) => (
            group.group_id().map(str::to_string),
            rules_of(group.ip_permissions()),
            rules_of(group.ip_permissions_egress()),
        ),
    };
    let id = &id.ok_or_else(|| AwsError::other(op, "the response holds no group id"))?;
    sync(&ec2, id, Direction::Ingress, &have_ingress, &ingress).await?;
    sync(&ec2, id, Direction::Egress, &have_egress, &egress).await?;
    // The group is what was just asked for: no DescribeSecurityGroups to report it.
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), name.into());
    attrs.insert("description".into(), description.into());
    attrs.insert("vpc_id".into(), vpc_id.into());
    attrs.insert("ingress".into(), to_json(&ingress));
    attrs.insert("egress".into(), to_json(&egress));
    Ok(created(id, attrs, &tags))
}

/// The egress rule AWS gives every new security group.
fn default_egress() -> Rules {
    let all = Rule::new("-1", None, None, Source::Cidr("0.0.0.0/0".into()));
    Rules::from([(all, None)])
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    let ingress = desired_rules(desired, "ingress")?;
    let egress = desired_rules(desired, "egress")?;
    update_tags(&ec2, id, current, desired).await?;
    let group = find(&ec2, id).await?;
    sync(
        &ec2,
        id,
        Direction::Ingress,
        &rules_of(group.ip_permissions()),
        &ingress,
    )
    .await?;
    sync(
        &ec2,
        id,
        Direction::Egress,
        &rules_of(group.ip_permissions_egress()),
        &egress,
    )
    .await?;
    Ok(to_live(&find(&ec2, id).await?))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    revoke_references(&ec2, id).await?;
    ignore_not_found(
        call("DeleteSecurityGroup", || {
            ec2.delete_security_group().group_id(id).send()
        })
        .await,
    )?;
    Ok(())
}

/// Revokes the rules of other groups that name group `id` as their source or destination: AWS refuses
/// to delete a group still referenced. A group replaced delete-first (its name is unique in its VPC)
/// is deleted before its dependents are updated to the new group, so this is their old rule going
/// early; their update then only adds the new one.
async fn revoke_references(ec2: &Client, id: &str) -> Result<(), AwsError> {
    for direction in [Direction::Ingress, Direction::Egress] {
        let name = match direction {
            Direction::Ingress => "ip-permission.group-id",
            Direction::Egress => "egress.ip-permission.group-id",
        };
        for group in describe(ec2, filter(name, [id])).await? {
            let Some(other) = group.group_id().filter(|g| *g != id) else {
                continue;
            };
            let rules = match direction {
                Direction::Ingress => group.ip_permissions(),
                Direction::Egress => group.ip_permissions_egress(),
            };
            let referencing: Vec<IpPermission> = rules
                .iter()
                .filter(|p| {
                    p.user_id_group_pairs()
                        .iter()
                        .any(|pair| pair.group_id() == Some(id))
                })
                .map(|p| {
                    IpPermission::builder()
                        .set_ip_protocol(p.ip_protocol().map(str::to_string))
                        .set_from_port(p.from_port())
                        .set_to_port(p.to_port())
                        .set_user_id_group_pairs(Some(
                            p.user_id_group_pairs()
                                .iter()
                                .filter(|pair| pair.group_id() == Some(id))
                                .cloned()
                                .collect(),
                        ))
                        .build()
                })
                .collect();
            revoke(ec2, other, direction, referencing).await?;
        }
    }
    Ok(())
}

/// Revokes `permissions` of one direction. Rules already gone (or naming a group already deleted)
/// are fine: when the call as a whole is refused for that, each rule is revoked on its own.
async fn revoke(
    ec2: &Client,
    id: &str,
    direction: Direction,
    permissions: Vec<IpPermission>,
) -> Result<(), AwsError> {
    let send = |permissions: Vec<IpPermission>| async move {
        let permissions = Some(permissions);
        match direction {
            Direction::Ingress => call("RevokeSecurityGroupIngress", || {
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(permissions.clone())
                    .send()
            })
            .await
            .map(drop),
            Direction::Egress => call("RevokeSecurityGroupEgress", || {
                ec2.revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(permissions.clone())
                    .send()
            })
            .await
            .map(drop),
        }
    };
    if permissions.is_empty() {
        return Ok(());
    }
    match send(permissions.clone()).await {
        Err(e) if e.is_not_found() && permissions.len() > 1 => {
            for p in permissions {
                ignore_not_found(send(vec![p]).await)?;
            }
            Ok(())
        }
        other => ignore_not_found(other).map(drop),
    }
}

/// One paginated DescribeSecurityGroups pass.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<SecurityGroup>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeSecurityGroups", || {
                ec2.describe_security_groups()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.security_groups().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await
}

async fn find(ec2: &Client, id: &str) -> Result<SecurityGroup, AwsError> {
    describe(ec2, filter("group-id", [id]))
        .await?
        .into_iter()
        .find(|g| g.group_id() == Some(id))
        .ok_or_else(|| gone("DescribeSecurityGroups", "InvalidGroup", id))
}

/// Where a rule's traffic comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Cidr(String),
    Group(String),
}

/// One AWS rule, without its description: protocol, ports and one source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    source: Source,
}

/// Rules with their descriptions.
type Rules = BTreeMap<Rule, Option<String>>;

impl Rule {
    fn new(protocol: &str, from_port: Option<i32>, to_port: Option<i32>, source: Source) -> Rule {
        // All traffic has no ports, whatever was written or reported.
        let all = protocol == "-1";
        Rule {
            protocol: protocol.to_string(),
            from_port: from_port.filter(|_| !all),
            to_port: to_port.filter(|_| !all),
            source,
        }
    }

    fn permission(&self, description: Option<&str>) -> IpPermission {
        let rule = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from_port)
            .set_to_port(self.to_port);
        let description = description.map(str::to_string);
        match &self.source {
            Source::Cidr(cidr) => rule.ip_ranges(
                IpRange::builder()
                    .cidr_ip(cidr)
                    .set_description(description)
                    .build(),
            ),
            Source::Group(group) => rule.user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(group)
                    .set_description(description)
                    .build(),
            ),
        }
        .build()
    }
}

/// The configured rules of `ingress` or `egress`, one per source.
fn desired_rules(desired: &Attrs, name: &str) -> Result<Rules, AwsError> {
    let mut rules = Rules::new();
    for rule in object_list(desired, name) {
        let protocol = opt_str(rule, "protocol").ok_or_else(|| {
            AwsError::other(
                "AuthorizeSecurityGroupRules",
                format!("an `{name}` rule has no protocol"),
            )
        })?;
        let port = |field: &str| rule.get(field).and_then(Value::as_f64).map(|n| n as i32);
        let description = opt_str(rule, "description").map(str::to_string);
        let mut sources: Vec<Source> = str_list(rule, "cidr_blocks")
            .into_iter()
            .map(Source::Cidr)
            .collect();
        sources.extend(opt_str(rule, "security_group_id").map(|g| Source::Group(g.to_string())));
        if sources.is_empty() {
            return Err(AwsError::other(
                "AuthorizeSecurityGroupRules",
                format!("an `{name}` rule has neither cidr_blocks nor security_group_id"),
            ));
        }
        for source in sources {
            let key = Rule::new(protocol, port("from_port"), port("to_port"), source);
            rules.insert(key, description.clone());
        }
    }
    Ok(rules)
}

/// AWS's rules, one per source.
fn rules_of(permissions: &[IpPermission]) -> Rules {
    let mut rules = Rules::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1");
        let text = |d: Option<&str>| d.filter(|d| !d.is_empty()).map(str::to_string);
        for range in p.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                let source = Source::Cidr(cidr.to_string());
                let rule = Rule::new(protocol, p.from_port(), p.to_port(), source);
                rules.insert(rule, text(range.description()));
            }
        }
        for pair in p.user_id_group_pairs() {
            if let Some(group) = pair.group_id() {
                let source = Source::Group(group.to_string());
                let rule = Rule::new(protocol, p.from_port(), p.to_port(), source);
                rules.insert(rule, text(pair.description()));
            }
        }
    }
    rules
}

/// Rules in the configuration's shape: CIDR rules grouped by protocol, ports and description.
fn to_json(rules: &Rules) -> Value {
    let object = |rule: &Rule, description: Option<&str>| {
        let mut map = serde_json::Map::new();
        map.insert("protocol".into(), rule.protocol.clone().into());
        if let Some(p) = rule.from_port {
            map.insert("from_port".into(), p.into());
        }
        if let Some(p) = rule.to_port {
            map.insert("to_port".into(), p.into());
        }
        if let Some(d) = description {
            map.insert("description".into(), d.into());
        }
        map
    };
    // CIDR rules by (protocol and ports with a blank source, description).
    let mut by_cidr: BTreeMap<(Rule, Option<&str>), Vec<&str>> = BTreeMap::new();
    let mut out = Vec::new();
    for (rule, description) in rules {
        match &rule.source {
            Source::Cidr(cidr) => {
                let key = Rule {
                    source: Source::Cidr(String::new()),
                    ..rule.clone()
                };
                by_cidr
                    .entry((key, description.as_deref()))
                    .or_default()
                    .push(cidr);
            }
            Source::Group(group) => {
                let mut map = object(rule, description.as_deref());
                map.insert("security_group_id".into(), group.clone().into());
                out.push(Value::Object(map));
            }
        }
    }
    for ((rule, description), cidrs) in by_cidr {
        let mut map = object(&rule, description);
        map.insert("cidr_blocks".into(), cidrs.into());
        out.push(Value::Object(map));
    }
    Value::Array(out)
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

/// Makes one direction's rules exactly `want`: revokes extra rules, authorizes missing ones and
/// rewrites changed descriptions.
async fn sync(
    ec2: &Client,
    id: &str,
    direction: Direction,
    have: &Rules,
    want: &Rules,
) -> Result<(), AwsError> {
    let permissions = |pick: &dyn Fn(&Rule, &Option<String>) -> bool, from: &Rules| {
        from.iter()
            .filter(|(r, d)| pick(r, d))
            .map(|(r, d)| r.permission(d.as_deref()))
            .collect::<Vec<_>>()
    };
    let revoke_list = permissions(&|r, _| !want.contains_key(r), have);
    let authorize = permissions(&|r, _| !have.contains_key(r), want);
    let describe = permissions(&|r, d| have.get(r).is_some_and(|old| old != d), want);
    revoke(ec2, id, direction, revoke_list).await?;
    if !authorize.is_empty() {
        let authorize = Some(authorize);
        match direction {
            Direction::Ingress => call("AuthorizeSecurityGroupIngress", || {
                ec2.authorize_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(authorize.clone())
                    .send()
            })
            .await
            .map(drop),
            Direction::Egress => call("AuthorizeSecurityGroupEgress", || {
                ec2.authorize_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(authorize.clone())
                    .send()
            })
            .await
            .map(drop),
        }?;
    }
    if !describe.is_empty() {
        let describe = Some(describe);
        match direction {
            Direction::Ingress => call("UpdateSecurityGroupRuleDescriptionsIngress", || {
                ec2.update_security_group_rule_descriptions_ingress()
                    .group_id(id)
                    .set_ip_permissions(describe.clone())
                    .send()
            })
            .await
            .map(drop),
            Direction::Egress => call("UpdateSecurityGroupRuleDescriptionsEgress", || {
                ec2.update_security_group_rule_descriptions_egress()
                    .group_id(id)
                    .set_ip_permissions(describe.clone())
                    .send()
            })
            .await
            .map(drop),
        }?;
    }
    Ok(())
}

fn to_live(group: &SecurityGroup) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), group.group_name().unwrap_or_default().into());
    attrs.insert(
        "description".into(),
        group.description().unwrap_or_default().into(),
    );
    attrs.insert("vpc_id".into(), group.vpc_id().unwrap_or_default().into());
    attrs.insert("ingress".into(), to_json(&rules_of(group.ip_permissions())));
    attrs.insert(
        "egress".into(),
        to_json(&rules_of(group.ip_permissions_egress())),
    );
    live(group.group_id().unwrap_or_default(), attrs, group.tags())
}
