//! `route53_resolver_rule`: a Resolver rule. FORWARD rules send queries for a domain (and its
//! subdomains) to target IPs through an outbound endpoint; SYSTEM rules make Resolver answer them.
//! Share a rule with other accounts with `ram_resource_share`; they associate it with their VPCs
//! (`route53_resolver_rule_association`).
//!
//! Read is one ListResolverRules pass per account and region (rules shared with the account and AWS's
//! own rules are left out unless state knows them) and one ListTagsForResource per landfall rule. The
//! name, target IPs and endpoint change in place (UpdateResolverRule; moto 5.2.5 lacks it: the tests
//! use the emulator extension `route53resolver_update_rule`); the domain and the rule type force a new
//! rule.
//!
//! Crash safety as for endpoints: the CreatorRequestId is `landfall/ADDRESS/NONCE`.

use super::{
    REFERENCE_PREFIX, address_in, caller_reference, merged, resolver_sdk_tags, resolver_tags,
    update_resolver_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_route53resolver::Client;
use aws_sdk_route53resolver::types::{
    ResolverRule, ResolverRuleConfig, RuleTypeOption, TargetAddress,
};
use std::collections::HashSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let rr = cx.route53resolver().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    for rule in rules(&rr).await? {
        let reference = rule.creator_request_id().unwrap_or_default();
        if !wanted.contains(rule.id().unwrap_or_default())
            && !reference.starts_with(REFERENCE_PREFIX)
        {
            continue;
        }
        let tags = resolver_tags(&rr, rule.arn().unwrap_or_default()).await?;
        let mut live = to_live(&rule, tags);
        live.address = live.address.or_else(|| address_in(reference));
        found.push(live);
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateResolverRule";
    let rr = cx.route53resolver().await?;
    let domain = required(desired, "domain_name", op)?;
    let reference = caller_reference(address);
    let tags = cx.creation_tags(address, desired);
    let sdk_tags = resolver_sdk_tags(&tags)?;
    let targets = targets(desired);
    let endpoint = Some(str_or_empty(desired, "resolver_endpoint_id")).filter(|e| !e.is_empty());
    let outcome = call_create(
        op,
        || {
            rr.create_resolver_rule()
                .creator_request_id(&reference)
                .name(str_or_empty(desired, "name"))
                .rule_type(RuleTypeOption::from(str_or_empty(desired, "rule_type")))
                .domain_name(domain)
                .set_target_ips((!targets.is_empty()).then(|| targets.clone()))
                .set_resolver_endpoint_id(endpoint.map(str::to_string))
                .set_tags(Some(sdk_tags.clone()))
                .send()
        },
        || async {
            let all = rules(&rr).await?;
            Ok(all
                .into_iter()
                .find(|r| r.creator_request_id() == Some(reference.as_str())))
        },
    )
    .await?;
    let rule = match outcome {
        Created::Sent(out) => out.resolver_rule().cloned(),
        Created::Found(r) => Some(r),
    }
    .ok_or_else(|| AwsError::other(op, "the response holds no rule"))?;
    Ok(to_live(&rule, tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let rr = cx.route53resolver().await?;
    let changed = |a: &str| current.get(a) != desired.get(a);
    if changed("name") || changed("target_ips") || changed("resolver_endpoint_id") {
        let config = ResolverRuleConfig::builder()
            .name(str_or_empty(desired, "name"))
            .set_target_ips(Some(targets(desired)))
            .resolver_endpoint_id(str_or_empty(desired, "resolver_endpoint_id"))
            .build();
        call("UpdateResolverRule", || {
            rr.update_resolver_rule()
                .resolver_rule_id(id)
                .config(config.clone())
                .send()
        })
        .await?;
    }
    update_resolver_tags(&rr, str_or_empty(current, "arn"), current, desired).await?;
    Ok(merged(id, current, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let rr = cx.route53resolver().await?;
    ignore_not_found(
        call("DeleteResolverRule", || {
            rr.delete_resolver_rule().resolver_rule_id(id).send()
        })
        .await,
    )?;
    Ok(())
}

/// `target_ips` as AWS takes them: port 53 each.
fn targets(desired: &Attrs) -> Vec<TargetAddress> {
    let ips = desired.get("target_ips").and_then(|v| v.as_array());
    ips.into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|ip| TargetAddress::builder().ip(ip).port(53).build())
        .collect()
}

/// Every rule the account and region list (ListResolverRules, all pages).
async fn rules(rr: &Client) -> Result<Vec<ResolverRule>, AwsError> {
    paginate(|token| async move {
        let out = call("ListResolverRules", || {
            rr.list_resolver_rules()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.resolver_rules().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await
}

fn to_live(rule: &ResolverRule, tags: Vec<(String, String)>) -> Live {
    let id = rule.id().unwrap_or_default();
    let (tags, address, lineage) = Live::split_tags(tags);
    let ips: Vec<&str> = rule.target_ips().iter().filter_map(|t| t.ip()).collect();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), rule.name().unwrap_or_default().into());
    let domain = rule.domain_name().unwrap_or_default().trim_end_matches('.');
    attrs.insert("domain_name".into(), domain.into());
    let kind = rule.rule_type().map(|t| t.as_str()).unwrap_or_default();
    attrs.insert("rule_type".into(), kind.into());
    attrs.insert("target_ips".into(), ips.into());
    let endpoint = rule.resolver_endpoint_id().unwrap_or_default();
    attrs.insert("resolver_endpoint_id".into(), endpoint.into());
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), id.into());
    attrs.insert("arn".into(), rule.arn().unwrap_or_default().into());
    attrs.insert(
        "owner_id".into(),
        rule.owner_id().unwrap_or_default().into(),
    );
    Live {
        id: id.to_string(),
        attrs,
        address,
        lineage,
    }
}
