//! The registry of resource kinds: what each kind's attributes are called, their types, which are required,
//! which have defaults, which force a replacement when changed, and which AWS computes.
//!
//! This is the single source of truth the resolver checks configuration against. The AWS behaviour of each
//! kind (read, create, update, delete) lives with the provider code, keyed by the same kind name.

mod kinds;

pub use kinds::KINDS;

/// The type of an attribute value, as checked after expressions are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Number,
    Bool,
    /// An IPv4 network in CIDR notation, e.g. `10.0.0.0/16`.
    Cidr,
    /// A JSON policy document: either a TOML table or a string holding JSON.
    Json,
    /// A list whose elements all have the given type.
    List(&'static AttrType),
    /// A map from strings to values of the given type.
    Map(&'static AttrType),
    /// A table with a fixed set of fields.
    Object(&'static [Field]),
}

impl AttrType {
    /// A short name used in messages, e.g. `list of string`.
    pub fn describe(&self) -> String {
        match self {
            AttrType::String => "string".into(),
            AttrType::Number => "number".into(),
            AttrType::Bool => "bool".into(),
            AttrType::Cidr => "CIDR block (string)".into(),
            AttrType::Json => "JSON document (table or JSON string)".into(),
            AttrType::List(inner) => format!("list of {}", inner.describe()),
            AttrType::Map(inner) => format!("map of {}", inner.describe()),
            AttrType::Object(_) => "table".into(),
        }
    }
}

/// A field of an [`AttrType::Object`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: AttrType,
    pub required: bool,
    /// The smallest and largest number AWS accepts (numbers only).
    pub range: Option<(i64, i64)>,
}

/// A default value for an attribute the configuration does not set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    Str(&'static str),
    Bool(bool),
    Number(f64),
    EmptyList,
    EmptyMap,
}

/// How an attribute behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attr {
    pub name: &'static str,
    pub ty: AttrType,
    /// The configuration must set it.
    pub required: bool,
    /// Used when the configuration does not set it.
    pub default: Option<Default>,
    /// Changing it means deleting the resource and creating a new one.
    pub force_new: bool,
    /// Set by AWS; known only after apply; the configuration may not set it.
    pub computed: bool,
    /// One line for `landfall kinds` and error hints.
    pub doc: &'static str,
    /// The smallest and largest number AWS accepts (numbers only).
    pub range: Option<(i64, i64)>,
    /// The most characters AWS accepts (strings only).
    pub max_len: Option<usize>,
}

/// Where a kind's resources live: once per account, or per account and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Organizations and IAM: global services, one home per account.
    Global,
    /// EC2 networking: per account and region.
    Regional,
}

/// A kind of resource: its name in configuration (`vpc`, `iam_role`...) and its schema.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub doc: &'static str,
    pub scope: Scope,
    /// Accepts a `tags` map (the project's default tags are merged into it).
    pub taggable: bool,
    /// A replacement creates the new resource first, moves dependents updated in place over to it, and
    /// deletes the old one last. For kinds whose AWS identity is not a unique name (a VPC), and whose old
    /// resource cannot be deleted while dependents are attached to it (an internet gateway).
    pub create_before_destroy: bool,
    pub attrs: &'static [Attr],
}

impl Kind {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// Commercial AWS regions (for catching typos) with the letters of their availability zones: `us-east-1`
/// has `us-east-1a` to `us-east-1f`. The letters are the zone names AWS documents for each region; which
/// physical zone a letter maps to differs per account, the set of letters does not. The local emulator
/// (moto 5.2.5) knows a subset of these (`us-west-1` a-b, `ap-northeast-1` a, c, d), never a letter
/// outside them.
pub const REGIONS: &[(&str, &str)] = &[
    ("af-south-1", "abc"),
    ("ap-east-1", "abc"),
    ("ap-east-2", "abc"),
    ("ap-northeast-1", "abcd"),
    ("ap-northeast-2", "abcd"),
    ("ap-northeast-3", "abc"),
    ("ap-south-1", "abc"),
    ("ap-south-2", "abc"),
    ("ap-southeast-1", "abc"),
    ("ap-southeast-2", "abc"),
    ("ap-southeast-3", "abc"),
    ("ap-southeast-4", "abc"),
    ("ap-southeast-5", "abc"),
    ("ap-southeast-7", "abc"),
    ("ca-central-1", "abd"),
    ("ca-west-1", "abc"),
    ("eu-central-1", "abc"),
    ("eu-central-2", "abc"),
    ("eu-north-1", "abc"),
    ("eu-south-1", "abc"),
    ("eu-south-2", "abc"),
    ("eu-west-1", "abc"),
    ("eu-west-2", "abc"),
    ("eu-west-3", "abc"),
    ("il-central-1", "abc"),
    ("me-central-1", "abc"),
    ("me-south-1", "abc"),
    ("mx-central-1", "abc"),
    ("sa-east-1", "abc"),
    ("us-east-1", "abcdef"),
    ("us-east-2", "abc"),
    ("us-west-1", "abc"),
    ("us-west-2", "abcd"),
];

/// Whether `name` is a known AWS region.
pub fn is_region(name: &str) -> bool {
    REGIONS.iter().any(|(r, _)| *r == name)
}

/// The names of the known AWS regions.
pub fn region_names() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(r, _)| *r)
}

/// The availability zone letters of a known region (`"abc"`).
pub fn zone_letters(region: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(r, _)| *r == region).map(|(_, l)| *l)
}

/// Looks up a kind by its configuration name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Builders that keep the kind tables in `kinds.rs` short and readable.
pub(crate) const fn attr(name: &'static str, ty: AttrType, doc: &'static str) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        default: None,
        force_new: false,
        computed: false,
        doc,
        range: None,
        max_len: None,
    }
}

impl Attr {
    pub(crate) const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub(crate) const fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub(crate) const fn default(mut self, d: Default) -> Self {
        self.default = Some(d);
        self
    }
    pub(crate) const fn range(mut self, min: i64, max: i64) -> Self {
        self.range = Some((min, max));
        self
    }
    pub(crate) const fn max_len(mut self, n: usize) -> Self {
        self.max_len = Some(n);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_and_attribute_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in KINDS {
            assert!(seen.insert(k.name), "duplicate kind {}", k.name);
            let mut attrs = std::collections::HashSet::new();
            for a in k.attrs {
                assert!(
                    attrs.insert(a.name),
                    "duplicate attribute {}.{}",
                    k.name,
                    a.name
                );
                assert!(
                    !(a.required && a.computed),
                    "{}.{} is both required and computed",
                    k.name,
                    a.name
                );
            }
            assert_eq!(
                k.taggable,
                k.attr("tags").is_some(),
                "{}: taggable must match a tags attribute",
                k.name
            );
        }
    }

    /// Tests run against moto 5.2.5: every zone it has must pass validation (its list, from
    /// moto/ec2/models/availability_zones_and_regions.py; other regions get a, b, c there).
    #[test]
    fn every_zone_of_the_emulator_is_known() {
        let moto = [
            ("ap-northeast-1", "acd"),
            ("ap-northeast-2", "abcd"),
            ("ap-south-1", "abc"),
            ("ap-southeast-2", "abc"),
            ("ca-central-1", "abd"),
            ("eu-west-1", "abc"),
            ("eu-west-2", "abc"),
            ("eu-west-3", "abc"),
            ("us-east-1", "abcdef"),
            ("us-west-1", "ab"),
            ("us-west-2", "abcd"),
        ];
        for (region, letters) in moto {
            let known = zone_letters(region).unwrap_or_else(|| panic!("{region} unknown"));
            assert!(letters.chars().all(|c| known.contains(c)), "{region}");
        }
        for (region, letters) in REGIONS {
            assert!(
                !letters.is_empty() && letters.chars().all(|c| c.is_ascii_lowercase()),
                "{region}"
            );
        }
    }

    #[test]
    fn reserved_words_are_not_kinds() {
        for reserved in crate::resolve::RESERVED_ROOTS {
            assert!(kind(reserved).is_none(), "{reserved} is reserved");
        }
    }
}
