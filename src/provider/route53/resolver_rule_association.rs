//! `route53_resolver_rule_association`: a Resolver rule applied to a VPC, from the VPC's account. The
//! rule may be another account's, shared with this one through RAM.
//!
//! Read is one ListResolverRuleAssociations pass per account and region. The id is
//! `RULE_ID:VPC_ID` (AWS's association id is kept as `association_id`): it follows from the
//! configuration, so an association made by a run whose answer was lost is recognised by it, and
//! AWS refuses a second association of one rule with one VPC. Everything forces a new association.

use crate::aws::{AwsError, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_route53resolver::Client;
use aws_sdk_route53resolver::types::{ResolverRuleAssociation, ResolverRuleAssociationStatus};
use std::collections::HashSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let rr = cx.route53resolver().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    Ok(associations(&rr)
        .await?
        .iter()
        .map(to_live)
        .filter(|live| wanted.contains(live.id.as_str()))
        .collect())
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "AssociateResolverRule";
    let rr = cx.route53resolver().await?;
    let rule = required(desired, "resolver_rule_id", op)?;
    let vpc = required(desired, "vpc_id", op)?;
    let name = str_or_empty(desired, "name");
    let outcome = call_create(
        op,
        || {
            rr.associate_resolver_rule()
                .resolver_rule_id(rule)
                .vpc_id(vpc)
                .name(name)
                .send()
        },
        || async {
            let all = associations(&rr).await?;
            Ok(all
                .into_iter()
                .find(|a| a.resolver_rule_id() == Some(rule) && a.vpc_id() == Some(vpc)))
        },
    )
    .await?;
    let association = match outcome {
        crate::aws::Created::Sent(out) => out.resolver_rule_association().cloned(),
        crate::aws::Created::Found(a) => Some(a),
    }
    .ok_or_else(|| AwsError::other(op, "the response holds no association"))?;
    Ok(to_live(&association))
}

/// Nothing changes in place: every attribute forces a new association.
pub async fn update(
    _cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    Ok(super::merged(id, current, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let op = "DisassociateResolverRule";
    let rr = cx.route53resolver().await?;
    let (rule, vpc) = match id.split_once(':') {
        Some(pair) => pair,
        None => (
            required(current, "resolver_rule_id", op)?,
            required(current, "vpc_id", op)?,
        ),
    };
    ignore_not_found(
        call(op, || {
            rr.disassociate_resolver_rule()
                .resolver_rule_id(rule)
                .vpc_id(vpc)
                .send()
        })
        .await,
    )?;
    Ok(())
}

/// Every association of the account and region that is not failed or going.
async fn associations(rr: &Client) -> Result<Vec<ResolverRuleAssociation>, AwsError> {
    let all = paginate(|token| async move {
        let out = call("ListResolverRuleAssociations", || {
            rr.list_resolver_rule_associations()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.resolver_rule_associations().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|a| {
            !matches!(
                a.status(),
                Some(
                    ResolverRuleAssociationStatus::Deleting | ResolverRuleAssociationStatus::Failed
                )
            )
        })
        .collect())
}

fn to_live(a: &ResolverRuleAssociation) -> Live {
    let (rule, vpc) = (
        a.resolver_rule_id().unwrap_or_default(),
        a.vpc_id().unwrap_or_default(),
    );
    let id = format!("{rule}:{vpc}");
    let mut attrs = Attrs::new();
    attrs.insert("resolver_rule_id".into(), rule.into());
    attrs.insert("vpc_id".into(), vpc.into());
    attrs.insert("name".into(), a.name().unwrap_or_default().into());
    attrs.insert("id".into(), id.clone().into());
    attrs.insert("association_id".into(), a.id().unwrap_or_default().into());
    Live {
        id,
        attrs,
        address: None,
        lineage: None,
    }
}
