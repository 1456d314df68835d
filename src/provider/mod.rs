//! The AWS behaviour of each resource kind: read many at once, create, update in place, delete.
//!
//! A kind's module exposes four async functions with the signatures of [`dispatch`]'s arms. Kinds know
//! nothing of state, ordering, concurrency or retries (every SDK call goes through [`crate::aws::call`],
//! which retries transient errors); the engine owns those.
//!
//! Attributes travel as JSON objects keyed by the schema's attribute names ([`Attrs`]). `read` reports
//! every attribute it can read, computed ones (`id`, `arn`...) included; an attribute it leaves out is
//! compared against state instead of AWS. `tags` never contains landfall's own `landfall:*` tags: those
//! are reported in [`Live::address`] and [`Live::lineage`].

mod attrs;
pub mod doc;
mod ec2;
mod guardrails;
mod iam;
mod logging;
mod org;
mod sso;
// Network hub (issue 13): transit gateways, RAM shares.
mod nethub;
mod ram;
// DNS (issue 13): Route 53 private zones and Resolver.
mod route53;
mod security;

use crate::aws::{Aws, AwsError};
/// How many account creations AWS lets be in progress at once (the schedule stays under it).
pub(crate) use org::account::MAX_CONCURRENT_CREATIONS;
/// Where an Organizations policy is attached (import-org discovers attachments with it).
pub(crate) use org::policy::targets_of;
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Attribute values by name.
pub type Attrs = serde_json::Map<String, serde_json::Value>;

/// Tag key holding a resource's landfall address, set at creation where the API takes tags.
pub const ADDRESS_TAG: &str = "landfall:address";
/// Tag key holding the lineage of the state the resource belongs to.
pub const LINEAGE_TAG: &str = "landfall:lineage";

/// The current time in Unix seconds, to compare with the creation times AWS reports.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

/// How far ahead of AWS's clock the machine running landfall may be when a resource's creation time
/// is compared with the moment landfall decided to create it (lost answers, interrupted runs).
pub(crate) const CLOCK_SKEW_SECS: i64 = 300;

/// Where a call runs: an account (`None` is the management account, i.e. the caller's own) and a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub account: Option<String>,
    pub region: String,
}

/// What a kind's functions get to work with.
pub struct Cx<'a> {
    pub aws: &'a Aws,
    pub loc: &'a Location,
    /// The lineage of the stack's state, for the `landfall:lineage` tag.
    pub lineage: &'a str,
    /// A long-running create that an earlier, interrupted run started (e.g. an account creation
    /// request id), to resume instead of starting again.
    pub pending: Option<&'a str>,
    /// Records a long-running create's request id in state, durably, before the kind polls for it.
    pub record_pending: &'a (dyn RecordPending + Sync),
    /// Shared by every read of one refresh, so kinds that need the same listing (the OU tree,
    /// GetAccountAuthorizationDetails, DescribeVpcs) fetch it once per account and region. `None`
    /// outside refresh: creates and updates must see fresh data.
    pub cache: Option<&'a ReadCache>,
    /// The configuration's `[[moved]]` entries: a moved resource (and what it allocated, such as a
    /// NAT gateway's elastic IP) keeps the address tag it was created with.
    pub moves: &'a [crate::resolve::Move],
}

/// Listings shared between the reads of one refresh (see [`Cx::cached`]), and what the refresh knows
/// of each kind's resources before reading them (see [`Cx::hints`]).
#[derive(Default)]
pub struct ReadCache {
    /// By account (`None`: the management account), then by listing and region.
    entries: std::sync::Mutex<HashMap<Option<String>, Listings>>,
    hints: HashMap<String, KindHints>,
}

/// What a refresh knows about one kind's resources before reading them, so that a kind can narrow
/// a listing it would otherwise make in full (for example, list the accounts of the OUs state places
/// them in rather than of every OU of the organization).
#[derive(Debug, Default, Clone)]
pub struct KindHints {
    /// State's attributes of the kind's resources in state (those whose ids `read` is given), kept
    /// only for the kinds whose read consults them ([`reads_state`]): a copy of every state
    /// attribute of every kind cost 65 MB at 1,000 accounts.
    in_state: Vec<Attrs>,
    /// Whether `in_state` is kept for this kind (see [`KindHints::in_state`]).
    keeps_state: bool,
    /// The resolved attributes of configured instances of the kind that state does not have: the
    /// candidates for adoption. Attributes whose value is not known yet are left out.
    pub missing: Vec<Attrs>,
}

/// The listing a kind's read shares with other kinds' reads in the same account ([`Cx::cached`]):
/// the refresh drops it once every kind that reads it is read there.
pub fn shared_listing(kind: &str) -> Option<&'static str> {
    match kind {
        "iam_role" | "iam_group" | "iam_policy" => Some(iam::SHARED_LISTING),
        "vpc" | "default_vpc" => Some(ec2::vpc::SHARED_LISTING),
        _ => None,
    }
}

/// The kinds whose `read` consults what state holds of their resources ([`KindHints::in_state`]):
/// to narrow a listing to the parents, instances or ids state names, or to tell apart what state
/// recorded from what AWS reports. (`policy_attachment` reads the hints of `policy`.)
pub fn reads_state(kind: &str) -> bool {
    matches!(
        kind,
        "organization"
            | "organizational_unit"
            | "account"
            | "policy"
            | "ebs_encryption_by_default"
            | "identitystore_group"
            | "sso_permission_set"
            | "sso_account_assignment"
            | "route53_zone"
            | "route53_zone_association"
    )
}

impl KindHints {
    /// Empty hints for `kind`: state's attributes are kept if the kind's read consults them.
    pub fn of_kind(kind: &str) -> KindHints {
        KindHints {
            keeps_state: reads_state(kind),
            ..KindHints::default()
        }
    }

    /// Hints whose resources in state are `in_state` (as state or a read reports their attributes).
    pub fn new(in_state: Vec<Attrs>, missing: Vec<Attrs>) -> KindHints {
        KindHints {
            in_state,
            keeps_state: true,
            missing,
        }
    }

    /// Records a resource state holds (its attributes are copied only if they are kept).
    pub fn add_state(&mut self, attrs: &Attrs) {
        if self.keeps_state {
            self.in_state.push(attrs.clone());
        }
    }

    /// State's attributes of the kind's resources in state. Only a kind listed in [`reads_state`]
    /// has them: another one reading them is a bug a debug build (every test) stops at.
    pub fn in_state(&self) -> &[Attrs] {
        debug_assert!(
            self.keeps_state,
            "a kind's read consults state's attributes: list it in provider::reads_state"
        );
        &self.in_state
    }

    /// The string values of `attr` over every resource, in state and missing, or `None` when any of
    /// them does not have one (so a narrowed listing cannot be trusted to find it).
    pub fn all_strings(&self, attr: &str) -> Option<std::collections::BTreeSet<String>> {
        self.in_state()
            .iter()
            .chain(&self.missing)
            .map(|attrs| attrs.get(attr).and_then(|v| v.as_str()).map(str::to_string))
            .collect()
    }
}

impl ReadCache {
    /// A cache for one refresh that knows, by kind name, what state and configuration say.
    pub fn with_hints(hints: HashMap<String, KindHints>) -> ReadCache {
        ReadCache {
            entries: Default::default(),
            hints,
        }
    }

    /// Drops `listing` (every region's) kept for `account`, once no read there needs it any more.
    pub fn forget_listing(&self, account: Option<&str>, listing: &str) {
        if let Some(kept) = self
            .entries
            .lock()
            .unwrap()
            .get_mut(&account.map(str::to_string))
        {
            kept.retain(|key, _| key.split_once('|').is_none_or(|(l, _)| l != listing));
        }
    }

    /// Drops the listings kept for `account`, once no read there needs them any more (an IAM
    /// account's authorization details are about 23 KB: 23 MB kept to the end of a 1,000-account
    /// refresh otherwise).
    pub fn forget(&self, account: Option<&str>) {
        self.entries
            .lock()
            .unwrap()
            .remove(&account.map(str::to_string));
    }
}

type CacheCell = OnceCell<Arc<dyn Any + Send + Sync>>;
/// One account's shared listings, by listing and region.
type Listings = HashMap<String, Arc<CacheCell>>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// See [`Cx::record_pending`].
pub trait RecordPending {
    fn record<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<(), AwsError>>;
    /// Forgets the recorded request, durably: AWS reported it finished without the resource (failed),
    /// so a later run must not resume it.
    fn clear(&self) -> BoxFuture<'_, Result<(), AwsError>>;
}

/// Records nothing: for callers with no state (tests, `import`).
pub struct NoPending;

impl RecordPending for NoPending {
    fn record<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async { Ok(()) })
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), AwsError>> {
        Box::pin(async { Ok(()) })
    }
}

impl<'a> Cx<'a> {
    /// A context without state: nothing pending, nothing to record, no shared listings. For `import`
    /// and tests; `lineage` goes on the tags of what it creates.
    pub fn standalone(aws: &'a Aws, loc: &'a Location, lineage: &'a str) -> Cx<'a> {
        Cx {
            aws,
            loc,
            lineage,
            pending: None,
            record_pending: &NoPending,
            cache: None,
            moves: &[],
        }
    }

    /// Whether a `landfall:address` tag `tag` names `address`: the same, or moved to it since.
    pub fn tag_names(&self, tag: &str, address: &str) -> bool {
        let mut now = tag.to_string();
        for m in self.moves {
            if let Some(to) = crate::address::rebase(&now, &m.from, &m.to) {
                now = to;
            }
        }
        now == address
    }

    /// The result of `load` for `key` in this context's account and region: computed once per refresh
    /// when a [`ReadCache`] is present (concurrent callers wait for the first), every time otherwise.
    pub async fn cached<T, F, Fut>(&self, key: &str, load: F) -> Result<Arc<T>, AwsError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let Some(cache) = self.cache else {
            return Ok(Arc::new(load().await?));
        };
        let cell = cache
            .entries
            .lock()
            .unwrap()
            .entry(self.loc.account.clone())
            .or_default()
            .entry(format!("{key}|{}", self.loc.region))
            .or_default()
            .clone();
        let value = cell
            .get_or_try_init(|| async {
                let v: Arc<dyn Any + Send + Sync> = Arc::new(load().await?);
                Ok::<_, AwsError>(v)
            })
            .await?
            .clone();
        value
            .downcast::<T>()
            .map_err(|_| AwsError::other(key, "cached listing has another type"))
    }

    /// What the refresh knows about `kind`'s resources; `None` outside a refresh (or with no hints),
    /// where a kind must list in full.
    pub fn hints(&self, kind: &str) -> Option<&KindHints> {
        self.cache?.hints.get(kind)
    }

    /// The tags to set at creation: the configured ones plus landfall's address and lineage tags.
    pub fn creation_tags(&self, address: &str, desired: &Attrs) -> Vec<(String, String)> {
        let mut tags: Vec<(String, String)> = desired
            .get("tags")
            .and_then(|t| t.as_object())
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        tags.push((ADDRESS_TAG.into(), address.into()));
        tags.push((LINEAGE_TAG.into(), self.lineage.into()));
        tags
    }

    pub async fn ec2(&self) -> Result<aws_sdk_ec2::Client, AwsError> {
        self.aws
            .ec2(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    pub async fn iam(&self) -> Result<aws_sdk_iam::Client, AwsError> {
        self.aws.iam(self.loc.account.as_deref()).await
    }

    pub async fn ssoadmin(&self) -> Result<aws_sdk_ssoadmin::Client, AwsError> {
        let (account, region) = (self.loc.account.as_deref(), &self.loc.region);
        self.aws.ssoadmin(account, region).await
    }

    pub async fn identitystore(&self) -> Result<aws_sdk_identitystore::Client, AwsError> {
        let (account, region) = (self.loc.account.as_deref(), &self.loc.region);
        self.aws.identitystore(account, region).await
    }

    pub async fn s3control(&self) -> Result<aws_sdk_s3control::Client, AwsError> {
        let (account, region) = (self.loc.account.as_deref(), &self.loc.region);
        self.aws.s3control(account, region).await
    }

    pub async fn account(&self) -> Result<aws_sdk_account::Client, AwsError> {
        self.aws.account(self.loc.account.as_deref()).await
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        self.aws.organizations()
    }

    pub async fn ram(&self) -> Result<aws_sdk_ram::Client, AwsError> {
        self.aws
            .ram(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    // ---- DNS (issue 13) ----
    pub async fn route53(&self) -> Result<aws_sdk_route53::Client, AwsError> {
        self.aws.route53(self.loc.account.as_deref()).await
    }

    pub async fn route53resolver(&self) -> Result<aws_sdk_route53resolver::Client, AwsError> {
        let (account, region) = (self.loc.account.as_deref(), &self.loc.region);
        self.aws.route53resolver(account, region).await
    }
}

/// One resource as AWS reports it (recorded in saved plans: `plan::basis`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Live {
    pub id: String,
    pub attrs: Attrs,
    /// The value of its `landfall:address` tag, if it has one.
    pub address: Option<String>,
    /// The value of its `landfall:lineage` tag, if it has one.
    pub lineage: Option<String>,
}

impl Live {
    /// Splits landfall's own tags out of an AWS tag list and returns the rest as a `tags` map.
    pub fn split_tags(
        tags: impl IntoIterator<Item = (String, String)>,
    ) -> (serde_json::Value, Option<String>, Option<String>) {
        let mut map = serde_json::Map::new();
        let (mut address, mut lineage) = (None, None);
        for (k, v) in tags {
            match k.as_str() {
                ADDRESS_TAG => address = Some(v),
                LINEAGE_TAG => lineage = Some(v),
                _ => {
                    map.insert(k, v.into());
                }
            }
        }
        (serde_json::Value::Object(map), address, lineage)
    }
}

/// Collects every page of a paginated call (`Describe*`, `List*`). `page(token)` sends one request and returns its items
/// and the next token; a missing or empty token ends the loop, and so does a repeated one.
pub(crate) async fn paginate<T, F, Fut>(mut page: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut token = None;
    loop {
        let (mut batch, next) = page(token.take()).await?;
        items.append(&mut batch);
        match next.filter(|t| !t.is_empty()) {
            Some(next) if seen.insert(next.clone()) => token = Some(next),
            _ => return Ok(items),
        }
    }
}

/// How a refresh recognises a configured resource that state does not have (a lost or rolled-back
/// state, a state of another lineage), so that the plan imports it instead of creating it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// By its `landfall:address` tag, set at creation ([`Live::address`]).
    Tag,
    /// The kind takes no tags, but AWS makes this id unique and it follows from the configuration
    /// (an IAM group's name, a policy attachment's `POLICY/TARGET`, an account's one password policy).
    Id(String),
    /// The kind takes no tags and there is at most one in its location (the organization): whatever
    /// `read` reports there without being asked for an id.
    Singleton,
    /// The kind takes no tags and its id is AWS's (a UUID), but AWS makes this attribute's value
    /// unique in its location and it follows from the configuration (an Identity Store group's
    /// display name): what `read` reports with that value. `read` reports every resource with a value
    /// one of [`KindHints::missing`] has.
    Unique { attr: &'static str, value: String },
}

/// The [`Identity`] of a configured resource of `kind` from its known attributes; `None` while an
/// attribute it needs is not known yet (a policy attachment whose policy is not found yet), or for a
/// kind that cannot be recognised.
pub fn identity(kind: &str, known: &Attrs) -> Option<Identity> {
    let attr = |name: &str| known.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let pair = |a: &str, b: &str| Some(Identity::Id(format!("{}/{}", attr(a)?, attr(b)?)));
    match kind {
        "organization" => Some(Identity::Singleton),
        "iam_group" => attr("name").map(Identity::Id),
        "iam_password_policy" => Some(Identity::Id(iam::password_policy::ID.into())),
        "iam_account_alias" => Some(Identity::Id(iam::account_alias::ID.into())),
        "default_vpc" => Some(Identity::Id(ec2::default_vpc::ID.into())),
        "policy_attachment" => pair("policy_id", "target_id"),
        "delegated_administrator" => pair("account_id", "service_principal"),
        "ebs_encryption_by_default" => Some(Identity::Id(guardrails::ebs_encryption::ID.into())),
        "s3_account_public_access_block" => {
            Some(Identity::Id(guardrails::s3_public_access_block::ID.into()))
        }
        "account_alternate_contact" => attr("contact_type").map(Identity::Id),
        "identitystore_group" => attr("display_name").map(|value| Identity::Unique {
            attr: "display_name",
            value,
        }),
        "sso_permission_set" => attr("name").map(|value| Identity::Unique {
            attr: "name",
            value,
        }),
        "sso_account_assignment" => sso::account_assignment::id_of(known).map(Identity::Id),
        "kms_alias" => attr("name").map(Identity::Id),
        "s3_bucket" => attr("bucket").map(Identity::Id),
        "cloudtrail_trail" => attr("name").map(Identity::Id),
        "guardduty_detector" | "securityhub_account" => Some(Identity::Singleton),
        "guardduty_organization_admin_account" | "securityhub_organization_admin_account" => {
            attr("admin_account_id").map(Identity::Id)
        }
        "config_configuration_recorder"
        | "config_delivery_channel"
        | "config_configuration_aggregator" => attr("name").map(Identity::Id),
        "route53_zone_association" => Some(Identity::Id(format!(
            "{}:{}",
            attr("zone_id")?,
            attr("vpc_id")?
        ))),
        "route53_resolver_rule_association" => Some(Identity::Id(format!(
            "{}:{}",
            attr("resolver_rule_id")?,
            attr("vpc_id")?
        ))),
        "guardduty_organization_configuration" => attr("detector_id").map(Identity::Id),
        _ => Some(Identity::Tag),
    }
}

/// Calls a kind's function by the kind's name. Every kind in the schema has an arm. Each kind's future
/// is boxed: unboxed, the match's future is as large as the largest kind's, and a caller polling it
/// on its own stack (a test's `block_on`, the CLI's main thread) overflowed once the kinds grew.
macro_rules! dispatch {
    ($kind:expr, $f:ident ( $($arg:expr),* )) => {
        match $kind {
            "organization" => Box::pin(org::organization::$f($($arg),*)).await,
            "organizational_unit" => Box::pin(org::organizational_unit::$f($($arg),*)).await,
            "account" => Box::pin(org::account::$f($($arg),*)).await,
            "policy" => Box::pin(org::policy::$f($($arg),*)).await,
            "policy_attachment" => Box::pin(org::policy_attachment::$f($($arg),*)).await,
            "delegated_administrator" => Box::pin(org::delegated_administrator::$f($($arg),*)).await,
            "iam_group" => Box::pin(iam::group::$f($($arg),*)).await,
            "iam_role" => Box::pin(iam::role::$f($($arg),*)).await,
            "iam_policy" => Box::pin(iam::policy::$f($($arg),*)).await,
            "iam_password_policy" => Box::pin(iam::password_policy::$f($($arg),*)).await,
            "iam_account_alias" => Box::pin(iam::account_alias::$f($($arg),*)).await,
            "vpc" => Box::pin(ec2::vpc::$f($($arg),*)).await,
            "subnet" => Box::pin(ec2::subnet::$f($($arg),*)).await,
            "internet_gateway" => Box::pin(ec2::internet_gateway::$f($($arg),*)).await,
            "nat_gateway" => Box::pin(ec2::nat_gateway::$f($($arg),*)).await,
            "route_table" => Box::pin(ec2::route_table::$f($($arg),*)).await,
            "security_group" => Box::pin(ec2::security_group::$f($($arg),*)).await,
            "default_vpc" => Box::pin(ec2::default_vpc::$f($($arg),*)).await,
            "iam_oidc_provider" => Box::pin(iam::oidc_provider::$f($($arg),*)).await,
            "ebs_encryption_by_default" => Box::pin(guardrails::ebs_encryption::$f($($arg),*)).await,
            "s3_account_public_access_block" => Box::pin(guardrails::s3_public_access_block::$f($($arg),*)).await,
            "account_alternate_contact" => Box::pin(guardrails::alternate_contact::$f($($arg),*)).await,
            "identitystore_group" => Box::pin(sso::group::$f($($arg),*)).await,
            "sso_permission_set" => Box::pin(sso::permission_set::$f($($arg),*)).await,
            "sso_account_assignment" => Box::pin(sso::account_assignment::$f($($arg),*)).await,
            // ---- network hub (issue 13) ----
            "transit_gateway" => Box::pin(nethub::transit_gateway::$f($($arg),*)).await,
            "ram_resource_share" => Box::pin(ram::resource_share::$f($($arg),*)).await,
            "transit_gateway_vpc_attachment" => Box::pin(nethub::vpc_attachment::$f($($arg),*)).await,
            "transit_gateway_route_table" => Box::pin(nethub::route_table::$f($($arg),*)).await,
            "vpc_endpoint" => Box::pin(ec2::vpc_endpoint::$f($($arg),*)).await,
            "kms_key" => Box::pin(logging::kms_key::$f($($arg),*)).await,
            "kms_alias" => Box::pin(logging::kms_alias::$f($($arg),*)).await,
            "s3_bucket" => Box::pin(logging::s3_bucket::$f($($arg),*)).await,
            "cloudtrail_trail" => Box::pin(logging::cloudtrail_trail::$f($($arg),*)).await,
            "flow_log" => Box::pin(ec2::flow_log::$f($($arg),*)).await,
            "guardduty_detector" => Box::pin(security::guardduty_detector::$f($($arg),*)).await,
            "guardduty_organization_admin_account" => Box::pin(security::guardduty_admin_account::$f($($arg),*)).await,
            "securityhub_account" => Box::pin(security::securityhub_account::$f($($arg),*)).await,
            "securityhub_organization_admin_account" => Box::pin(security::securityhub_admin_account::$f($($arg),*)).await,
            "config_configuration_recorder" => Box::pin(security::config_recorder::$f($($arg),*)).await,
            "config_delivery_channel" => Box::pin(security::config_delivery_channel::$f($($arg),*)).await,
            "config_configuration_aggregator" => Box::pin(security::config_aggregator::$f($($arg),*)).await,
            // ---- DNS (issue 13) ----
            "route53_zone" => Box::pin(route53::zone::$f($($arg),*)).await,
            "route53_zone_association" => Box::pin(route53::zone_association::$f($($arg),*)).await,
            "route53_resolver_endpoint" => Box::pin(route53::resolver_endpoint::$f($($arg),*)).await,
            "route53_resolver_rule" => Box::pin(route53::resolver_rule::$f($($arg),*)).await,
            "route53_resolver_rule_association" => Box::pin(route53::resolver_rule_association::$f($($arg),*)).await,
            "guardduty_organization_configuration" => Box::pin(security::guardduty_org_config::$f($($arg),*)).await,
            other => Err(AwsError::other(stringify!($f), format!("kind `{other}` has no provider"))),
        }
    };
}

/// Reads every resource of `kind` in the context's location that has one of `ids` or carries a
/// `landfall:address` tag. Ids that no longer exist are simply absent from the result.
pub async fn read(kind: &str, cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    dispatch!(kind, read(cx, ids))
}

/// Creates a resource with the desired attributes (no unknown values left in them).
pub async fn create(
    kind: &str,
    cx: &Cx<'_>,
    address: &str,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    dispatch!(kind, create(cx, address, desired))
}

/// Changes a resource in place from `current` (state, refreshed) to `desired`.
pub async fn update(
    kind: &str,
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    dispatch!(kind, update(cx, id, current, desired))
}

/// Deletes a resource. Deleting one that is already gone succeeds.
pub async fn delete(kind: &str, cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    dispatch!(kind, delete(cx, id, current))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    #[test]
    fn a_listing_is_forgotten_in_its_account_only_and_an_account_whole() {
        let cache = ReadCache::default();
        for account in [Some("111111111111"), None] {
            let kept: Listings = [
                "iam:GetAccountAuthorizationDetails|eu-west-1",
                "ec2:DescribeVpcs|eu-west-1",
                "ec2:DescribeVpcs|us-east-1",
            ]
            .into_iter()
            .map(|k| (k.to_string(), Arc::default()))
            .collect();
            let account = account.map(str::to_string);
            cache.entries.lock().unwrap().insert(account, kept);
        }
        let keys = |account: Option<&str>| -> BTreeSet<String> {
            let entries = cache.entries.lock().unwrap();
            let kept = entries.get(&account.map(str::to_string));
            kept.map(|k| k.keys().cloned().collect())
                .unwrap_or_default()
        };
        cache.forget_listing(Some("111111111111"), "ec2:DescribeVpcs");
        let left = ["iam:GetAccountAuthorizationDetails|eu-west-1".to_string()];
        assert_eq!(keys(Some("111111111111")), BTreeSet::from(left));
        assert_eq!(keys(None).len(), 3);
        cache.forget(None);
        assert!(keys(None).is_empty());
        assert_eq!(keys(Some("111111111111")).len(), 1);
    }

    /// Serves `pages` (items, next token) in order, recording the token each request carried.
    async fn collect(pages: Vec<(Vec<u32>, Option<&str>)>) -> (Vec<u32>, Vec<Option<String>>) {
        let pages = Mutex::new(pages.into_iter());
        let sent = Mutex::new(Vec::new());
        let items = paginate(|token| {
            sent.lock().unwrap().push(token);
            let (batch, next) = pages
                .lock()
                .unwrap()
                .next()
                .expect("asked past the last page");
            async move { Ok((batch, next.map(str::to_string))) }
        })
        .await
        .unwrap();
        (items, sent.into_inner().unwrap())
    }

    #[test]
    fn kinds_without_tags_are_recognised_by_the_id_aws_makes_unique() {
        let attrs = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert_eq!(identity("vpc", &Attrs::new()), Some(Identity::Tag));
        assert_eq!(
            identity("iam_group", &attrs(serde_json::json!({"name": "admins"}))),
            Some(Identity::Id("admins".into()))
        );
        assert_eq!(
            identity(
                "policy_attachment",
                &attrs(serde_json::json!({"policy_id": "p-1", "target_id": "ou-2"}))
            ),
            Some(Identity::Id("p-1/ou-2".into()))
        );
        // The policy is not found yet: not recognisable in this pass.
        assert_eq!(
            identity(
                "policy_attachment",
                &attrs(serde_json::json!({"target_id": "ou-2"}))
            ),
            None
        );
        assert_eq!(
            identity("organization", &Attrs::new()),
            Some(Identity::Singleton)
        );
    }

    #[tokio::test]
    async fn paginate_follows_tokens_until_none_or_empty_or_repeated() {
        // Without a token: one request.
        let (items, sent) = collect(vec![(vec![1, 2], None)]).await;
        assert_eq!((items, sent), (vec![1, 2], vec![None]));
        // Each token is sent back until a page has none (or an empty one, as some APIs answer).
        let (items, sent) = collect(vec![
            (vec![1], Some("a")),
            (vec![2], Some("b")),
            (vec![3], Some("")),
        ])
        .await;
        assert_eq!(items, vec![1, 2, 3]);
        assert_eq!(sent, vec![None, Some("a".into()), Some("b".into())]);
        // A token seen before ends the loop instead of cycling forever.
        let (items, sent) = collect(vec![(vec![1], Some("a")), (vec![2], Some("a"))]).await;
        assert_eq!(items, vec![1, 2]);
        assert_eq!(sent.len(), 2);
    }
}
