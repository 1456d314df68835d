//! The registry of resource kinds: what each kind's attributes are called, their types, which are required,
//! which have defaults, which force a replacement when changed, and which AWS computes.
//!
//! This is the single source of truth the resolver checks configuration against. The AWS behaviour of each
//! kind (read, create, update, delete) lives with the provider code, keyed by the same kind name.

pub mod json_schema;
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
    /// What AWS accepts in the string (strings, or each string of a list).
    pub text: Option<Text>,
}

/// What AWS accepts in a string: its length in characters, and a pattern or a set of values where AWS
/// documents one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub min: usize,
    pub max: usize,
    pub pattern: Option<&'static Pattern>,
    /// The only values AWS accepts (empty: any).
    pub one_of: &'static [&'static str],
}

/// A pattern AWS documents for a string, checked without a regular expression engine.
#[derive(Debug)]
pub struct Pattern {
    /// The pattern as a regular expression, for JSON Schema (empty when a portable one cannot say it).
    pub regex: &'static str,
    /// What it allows, in words, for messages.
    pub describe: &'static str,
    pub test: fn(&str) -> bool,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.regex == other.regex
    }
}
impl Eq for Pattern {}

impl Text {
    /// Why `s` is not accepted, if it is not.
    pub fn problem(&self, s: &str) -> Option<String> {
        let n = s.chars().count();
        if n < self.min || n > self.max {
            return Some(match self.min {
                0 => format!("is {n} characters long; AWS accepts at most {}", self.max),
                min => format!(
                    "is {n} characters long; AWS accepts {min} to {} characters",
                    self.max
                ),
            });
        }
        if !self.one_of.is_empty() && !self.one_of.contains(&s) {
            return Some(format!("is {s:?}; AWS accepts {}", self.one_of.join(", ")));
        }
        match self.pattern {
            Some(p) if !(p.test)(s) => Some(format!("is {s:?}; AWS accepts {}", p.describe)),
            _ => None,
        }
    }

    /// The constraint in words, for `landfall kinds`.
    pub fn describe(&self) -> String {
        let mut out = match (self.min, self.max) {
            (0, usize::MAX) => String::new(),
            (0, max) => format!("at most {max} characters"),
            (min, max) => format!("{min} to {max} characters"),
        };
        let rule = if !self.one_of.is_empty() {
            format!("one of {}", self.one_of.join(", "))
        } else if let Some(p) = self.pattern {
            p.describe.to_string()
        } else {
            String::new()
        };
        if !rule.is_empty() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&rule);
        }
        out
    }
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
    /// What AWS accepts in the string: the value, each string of a list, each value of a map.
    pub text: Option<Text>,
    /// What AWS accepts as the keys of a map (tag keys, inline policy names).
    pub keys: Option<Text>,
    /// The most items AWS accepts in a list (an OIDC provider's thumbprints, a permission set's
    /// managed policies).
    pub max_items: Option<usize>,
}

impl Attr {
    /// The attribute's limits in words (`6 to 128`, `1 to 64 characters; ...`), for `landfall kinds`.
    pub fn constraints(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((min, max)) = self.range {
            out.push(format!("{min} to {max}"));
        }
        if let Some(n) = self.max_items {
            out.push(format!("at most {n} items"));
        }
        if let Some(t) = self.text.map(|t| t.describe()).filter(|t| !t.is_empty()) {
            out.push(match self.keys {
                Some(_) => format!("values: {t}"),
                None => t,
            });
        }
        if let Some(t) = self.keys.map(|t| t.describe()).filter(|t| !t.is_empty()) {
            out.push(format!("keys: {t}"));
        }
        out
    }
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

/// Whether `name` is a name AWS accepts for an IAM role (`[defaults] access_role`, `plan_role`).
pub fn is_role_name(name: &str) -> bool {
    kinds::ROLE_NAME.problem(name).is_none()
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
        text: None,
        keys: None,
        max_items: None,
    }
}

pub(crate) const fn field(name: &'static str, ty: AttrType) -> Field {
    Field {
        name,
        ty,
        required: false,
        range: None,
        text: None,
    }
}

/// A string of `min` to `max` characters.
pub(crate) const fn len(min: usize, max: usize) -> Text {
    Text {
        min,
        max,
        pattern: None,
        one_of: &[],
    }
}

impl Text {
    pub(crate) const fn pattern(mut self, p: &'static Pattern) -> Self {
        self.pattern = Some(p);
        self
    }
    pub(crate) const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.one_of = values;
        self
    }
}

impl Field {
    pub(crate) const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) const fn range(mut self, min: i64, max: i64) -> Self {
        self.range = Some((min, max));
        self
    }
    pub(crate) const fn text(mut self, t: Text) -> Self {
        self.text = Some(t);
        self
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
    pub(crate) const fn text(mut self, t: Text) -> Self {
        self.text = Some(t);
        self
    }
    pub(crate) const fn keys(mut self, t: Text) -> Self {
        self.keys = Some(t);
        self
    }
    pub(crate) const fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
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
