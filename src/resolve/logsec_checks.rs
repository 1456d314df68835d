//! Checks of the logging and security kinds against limits AWS enforces only at apply time: document
//! sizes (key and bucket policies), one organization trail, one GuardDuty detector and one Config
//! recorder per account and region.

use super::Instance;
use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::Value;
use crate::source::Span;

/// Largest document AWS accepts, per kind and attribute: key policies 32 KB, bucket policies 20 KB.
const DOCUMENT_LIMITS: &[(&str, &str, usize)] = &[
    ("kms_key", "policy", 32_768),
    ("s3_bucket", "policy", 20_480),
];

pub fn check(instances: &[Instance], diags: &mut Diagnostics) {
    document_sizes(instances, diags);
    one_organization_trail(instances, diags);
}

fn span(inst: &Instance, attr: &str) -> Span {
    inst.attr_spans.get(attr).copied().unwrap_or(inst.span)
}

fn document_sizes(instances: &[Instance], diags: &mut Diagnostics) {
    for inst in instances {
        for (kind, attr, limit) in DOCUMENT_LIMITS {
            if inst.kind.name != *kind {
                continue;
            }
            let Some(doc) = inst.attrs.get(*attr).filter(|d| !d.has_unknown()) else {
                continue;
            };
            let size = match doc.to_json() {
                serde_json::Value::String(text) => text.len(),
                other => other.to_string().len(),
            };
            if size > *limit {
                diags.push(
                    Diagnostic::error(format!(
                        "{}: the {attr} document is {size} bytes; AWS allows {limit}",
                        inst.address
                    ))
                    .at(span(inst, attr), "too large")
                    .help("shorten it: merge statements, use wildcards, or move grants to IAM policies"),
                );
            }
        }
    }
}

/// An organization can have only one organization trail (more are refused by CloudTrail, and two
/// would deliver every event twice).
fn one_organization_trail(instances: &[Instance], diags: &mut Diagnostics) {
    let org_trails: Vec<&Instance> = instances
        .iter()
        .filter(|i| i.kind.name == "cloudtrail_trail")
        .filter(|i| {
            matches!(
                i.attrs.get("is_organization_trail"),
                Some(Value::Bool(true))
            )
        })
        .collect();
    if let [first, rest @ ..] = org_trails.as_slice() {
        for extra in rest {
            diags.push(
                Diagnostic::error(format!(
                    "{}: a second organization trail; an organization has at most one",
                    extra.address
                ))
                .at(
                    span(extra, "is_organization_trail"),
                    "a second organization trail",
                )
                .note(
                    Some(span(first, "is_organization_trail")),
                    format!("{} is the first", first.address),
                )
                .help(
                    "keep one organization trail; set is_organization_trail = false on the others",
                ),
            );
        }
    }
}
