//! The kinds landfall manages, with their attributes. Names follow the AWS APIs in snake case; the
//! lengths, ranges and patterns are the ones the AWS API references give for each parameter.

use super::AttrType::{self, *};
use super::Default as D;
use super::{Attr, Field, Kind, Pattern, Scope, Text, attr, field, len};

const STRINGS: AttrType = List(&String);
const STRING_MAP: AttrType = Map(&String);
const DOCUMENTS: AttrType = Map(&Json);

/// IAM user, group, role and policy names, role session and inline policy names.
const IAM_NAME: Pattern = Pattern {
    regex: r"^[\w+=,.@-]+$",
    describe: "letters, digits and + = , . @ _ -",
    test: |s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    },
};
/// IAM paths: `/` or `/a/b/`.
const IAM_PATH: Pattern = Pattern {
    regex: r"^/([\x21-\x7E]*/)?$",
    describe: "a path starting and ending with /",
    test: |s| s.starts_with('/') && s.ends_with('/') && s.chars().all(|c| c.is_ascii_graphic()),
};
/// Account aliases.
const ALIAS: Pattern = Pattern {
    regex: r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
    describe: "lowercase letters, digits and hyphens, not starting or ending with a hyphen",
    test: |s| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    },
};
/// Root user emails.
const EMAIL: Pattern = Pattern {
    regex: r"^[^\s@]+@[^\s@]+\.[^\s@]+$",
    describe: "a valid email address such as aws+prod@example.com",
    test: |s| {
        let host = |d: &str| {
            d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains("..")
        };
        s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && host(domain)
        }) && !s.chars().any(char::is_whitespace)
    },
};
/// Service principals (`sso.amazonaws.com`).
const PRINCIPAL: Pattern = Pattern {
    regex: r"^[\w+=,.@-]*$",
    describe: "a service principal such as sso.amazonaws.com",
    test: |s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    },
};
/// ARNs (managed policies, permissions boundaries).
const ARN: Pattern = Pattern {
    regex: r"^arn:aws[a-z-]*:",
    describe: "an ARN (arn:aws:...)",
    test: |s| s.starts_with("arn:aws"),
};
/// Tag keys: the `aws:` prefix is reserved for AWS (characters differ per service: IAM allows fewer
/// than Organizations and EC2, so they are left to AWS).
const TAG_KEY: Pattern = Pattern {
    // Not expressible without look-ahead, which editors' regex engines lack.
    regex: "",
    describe: "any text not starting with aws: (reserved for AWS)",
    test: |s| !s.starts_with("aws:"),
};
/// Security group rule protocols: a name AWS knows, `-1` for all, or a protocol number.
const PROTOCOL: Pattern = Pattern {
    regex: r"^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$",
    describe: "tcp, udp, icmp, icmpv6, -1 (all) or a protocol number",
    test: |s| {
        matches!(s, "tcp" | "udp" | "icmp" | "icmpv6" | "-1")
            || s.parse::<u8>().is_ok() && s.len() <= 3
    },
};
/// Availability zone names (`eu-west-1a`); the letters per region are checked against the region table.
const ZONE: Pattern = Pattern {
    regex: r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$",
    describe: "a zone name such as eu-west-1a",
    test: |s| {
        s.rsplit_once('-').is_some_and(|(region, rest)| {
            region.contains('-')
                && rest.len() == 2
                && rest.as_bytes()[0].is_ascii_digit()
                && rest.as_bytes()[1].is_ascii_lowercase()
        })
    },
};

/// OpenID Connect provider URLs: `https://` and a host, with an optional path.
const HTTPS_URL: Pattern = Pattern {
    regex: r"^https://[^\s/]+(/\S*)?$",
    describe: "an https:// URL such as https://token.actions.githubusercontent.com",
    test: |s| {
        s.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.chars().any(char::is_whitespace)
        })
    },
};
/// Certificate thumbprints: the hex-encoded SHA-1 of a certificate.
const THUMBPRINT: Pattern = Pattern {
    regex: r"^[0-9A-Fa-f]{40}$",
    describe: "40 hexadecimal digits (a certificate's SHA-1 thumbprint)",
    test: |s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()),
};

/// KMS key ARNs, or empty for AWS's managed key.
const KMS_KEY_ARN: Pattern = Pattern {
    regex: r"^(arn:aws[a-z-]*:kms:.*)?$",
    describe: "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or empty",
    test: |s| s.is_empty() || s.starts_with("arn:aws") && s.split(':').nth(2) == Some("kms"),
};
/// Phone numbers as the Account API takes them.
const PHONE: Pattern = Pattern {
    regex: r"^[\s0-9()+-]+$",
    describe: "digits, spaces and + ( ) -",
    test: |s| s.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c)),
};
/// ISO-8601 durations of whole hours from 1 to 12, as Identity Center takes session durations.
const SESSION_HOURS: Pattern = Pattern {
    regex: r"^PT([1-9]|1[0-2])H$",
    describe: "PT1H to PT12H (an ISO-8601 duration in whole hours)",
    test: |s| {
        s.strip_prefix("PT")
            .and_then(|h| h.strip_suffix('H'))
            .and_then(|h| h.parse::<u8>().ok())
            .is_some_and(|h| (1..=12).contains(&h) && !s.starts_with("PT0"))
    },
};
/// Identity Center instance ARNs, or empty for the one there is.
const SSO_INSTANCE: Pattern = Pattern {
    regex: r"^(arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16})?$",
    describe: "an instance ARN (arn:aws:sso:::instance/ssoins-...), or empty for the one there is",
    test: |s| s.is_empty() || s.starts_with("arn:aws") && s.contains(":sso:::instance/"),
};
/// Twelve-digit account ids.
const ACCOUNT_ID: Pattern = Pattern {
    regex: r"^[0-9]{12}$",
    describe: "a 12-digit account id",
    test: |s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()),
};
/// KMS alias names: `alias/` then letters, digits and / _ -; `alias/aws/` is reserved for AWS.
const KMS_ALIAS: Pattern = Pattern {
    regex: r"^alias/[a-zA-Z0-9/_-]+$",
    describe: "alias/ followed by letters, digits and / _ - (not alias/aws/)",
    test: |s| {
        s.strip_prefix("alias/").is_some_and(|name| {
            !name.is_empty()
                && !name.starts_with("aws/")
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        })
    },
};

/// S3 bucket names (general purpose buckets): lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit, no two adjacent dots, not an IP address, none of the prefixes and
/// suffixes AWS reserves.
const BUCKET_NAME: Pattern = Pattern {
    regex: r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$",
    describe: "lowercase letters, digits, . and -, starting and ending with a letter or digit, no '..', not an IP address, not starting with xn--, sthree- or amzn-s3-demo-, not ending with -s3alias, --ol-s3, .mrap or --x-s3",
    test: |s| {
        let edge =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            && edge(s.chars().next())
            && edge(s.chars().last())
            && !s.contains("..")
            && s.parse::<std::net::Ipv4Addr>().is_err()
            && !["xn--", "sthree-", "amzn-s3-demo-"]
                .iter()
                .any(|p| s.starts_with(p))
            && !["-s3alias", "--ol-s3", ".mrap", "--x-s3"]
                .iter()
                .any(|x| s.ends_with(x))
    },
};

const LIFECYCLE_FIELDS: &[Field] = &[
    field("id", String).required().text(len(1, 255)),
    field("prefix", String).text(len(0, 1024)),
    field("expiration_days", Number).range(1, 36500),
    field("noncurrent_version_expiration_days", Number).range(1, 36500),
];

/// CloudTrail trail names: letters, digits, . _ -, starting and ending with a letter or digit.
const TRAIL_NAME: Pattern = Pattern {
    regex: r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$",
    describe: "letters, digits, . _ and -, starting and ending with a letter or digit",
    test: |s| {
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && edge(s.chars().next())
            && edge(s.chars().last())
    },
};

/// S3 bucket ARNs, optionally with a key prefix.
const S3_ARN: Pattern = Pattern {
    regex: r"^arn:aws[a-z-]*:s3:::",
    describe: "an S3 bucket ARN (arn:aws:s3:::NAME)",
    test: |s| s.starts_with("arn:aws") && s.contains(":s3:::"),
};

const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
];

const fn iam_name(max: usize) -> Text {
    len(1, max).pattern(&IAM_NAME)
}
/// What AWS accepts as a role name: also the `[defaults]` access and plan roles of landfall.toml.
pub(super) const ROLE_NAME: Text = iam_name(64);
const fn iam_path() -> Text {
    len(1, 512).pattern(&IAM_PATH)
}
const fn id() -> Attr {
    attr("id", String, "the identifier AWS assigned").computed()
}
const fn arn() -> Attr {
    attr("arn", String, "the ARN AWS assigned").computed()
}
const fn tags() -> Attr {
    attr(
        "tags",
        STRING_MAP,
        "tags; the project's default tags are merged in",
    )
    .default(D::EmptyMap)
    .keys(len(1, 128).pattern(&TAG_KEY))
    .text(len(0, 256))
}
const fn managed_policy_arns() -> Attr {
    attr(
        "managed_policy_arns",
        STRINGS,
        "exactly these managed policies are attached",
    )
    .default(D::EmptyList)
    .text(len(20, 2048).pattern(&ARN))
}
const fn inline_policies() -> Attr {
    attr(
        "inline_policies",
        DOCUMENTS,
        "exactly these inline policies, by name",
    )
    .default(D::EmptyMap)
    .keys(iam_name(128))
}

const POLICY_REFERENCE_FIELDS: &[Field] = &[
    field("name", String).required().text(iam_name(128)),
    field("path", String).text(iam_path()),
];

const ROUTE_FIELDS: &[Field] = &[
    field("destination_cidr_block", Cidr).required(),
    field("gateway_id", String),
    field("nat_gateway_id", String),
    field("transit_gateway_id", String),
    field("vpc_peering_connection_id", String),
];

const TGW_ROUTE_FIELDS: &[Field] = &[
    field("destination_cidr_block", Cidr).required(),
    field("transit_gateway_attachment_id", String),
    field("blackhole", Bool),
];

const RULE_FIELDS: &[Field] = &[
    field("protocol", String)
        .required()
        .text(len(1, 7).pattern(&PROTOCOL)),
    field("from_port", Number).range(-1, 65535),
    field("to_port", Number).range(-1, 65535),
    field("cidr_blocks", STRINGS),
    field("security_group_id", String),
    field("description", String).text(len(0, 255)),
];

// ---- DNS (issue 13) ----
/// DNS names as Route 53 takes a zone's or a rule's domain: dot-separated labels of letters, digits,
/// hyphens and underscores, each 1 to 63 characters, without the trailing dot.
const DOMAIN_NAME: Pattern = Pattern {
    regex: r"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$",
    describe: "a DNS name such as internal.example.com (labels of letters, digits, - and _, each at most 63 characters; no trailing dot)",
    test: |s| {
        s.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    },
};

/// IPv4 addresses (Resolver rules' target IPs).
const IPV4: Pattern = Pattern {
    regex: r"^([0-9]{1,3}\.){3}[0-9]{1,3}$",
    describe: "an IPv4 address such as 10.0.0.2",
    test: |s| s.parse::<std::net::Ipv4Addr>().is_ok(),
};

/// Every kind, in the order `landfall kinds` lists them.
pub static KINDS: &[Kind] = &[
    // ---- AWS Organizations -------------------------------------------------------------------------
    Kind {
        name: "organization",
        doc: "the AWS organization, created or adopted from the management account",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("feature_set", String, "ALL or CONSOLIDATED_BILLING")
                .default(D::Str("ALL"))
                .text(len(1, 64).one_of(&["ALL", "CONSOLIDATED_BILLING"]))
                .force_new(),
            attr(
                "enabled_policy_types",
                STRINGS,
                "SERVICE_CONTROL_POLICY, TAG_POLICY, BACKUP_POLICY, RESOURCE_CONTROL_POLICY",
            )
            .default(D::EmptyList)
            .text(len(1, 64).one_of(POLICY_TYPES)),
            attr(
                "aws_service_access_principals",
                STRINGS,
                "services trusted in the organization, e.g. sso.amazonaws.com",
            )
            .default(D::EmptyList)
            .text(len(1, 128).pattern(&PRINCIPAL)),
            id(),
            arn(),
            attr("root_id", String, "the id of the organization root (r-...)").computed(),
            attr(
                "management_account_id",
                String,
                "the management account's id",
            )
            .computed(),
        ],
    },
    Kind {
        name: "organizational_unit",
        doc: "an organizational unit; nest by setting parent_id to another OU's id",
        scope: Scope::Global,
        taggable: true,
        // AWS refuses to delete an OU that holds accounts: the new OU (under its new parent, so its name
        // cannot collide) must exist for them to move to before the old one goes.
        create_before_destroy: true,
        attrs: &[
            attr("name", String, "the OU's name; unique under its parent")
                .required()
                .text(len(1, 128)),
            attr("parent_id", String, "the root id or the parent OU's id")
                .required()
                .force_new(),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "account",
        doc: "a member account, created through Organizations and placed in an OU",
        scope: Scope::Global,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the account name")
                .required()
                .text(len(1, 50)),
            attr("email", String, "the root user's email; unique across AWS")
                .required()
                .text(len(6, 64).pattern(&EMAIL)),
            attr(
                "parent_id",
                String,
                "the OU (or root) holding the account; a change moves it",
            )
            .required(),
            attr(
                "role_name",
                String,
                "the access role created in the account",
            )
            .default(D::Str("OrganizationAccountAccessRole"))
            .text(iam_name(64)),
            attr(
                "close_on_destroy",
                Bool,
                "close the account on destroy (else only dropped from state)",
            )
            .default(D::Bool(false)),
            tags(),
            id(),
            arn(),
            attr("status", String, "ACTIVE, SUSPENDED...").computed(),
        ],
    },
    Kind {
        name: "policy",
        doc: "an organization policy: service control, tag, backup or resource control",
        scope: Scope::Global,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the policy's name")
                .required()
                .text(len(1, 128)),
            attr("description", String, "what the policy is for")
                .default(D::Str(""))
                .text(len(0, 512)),
            attr(
                "type",
                String,
                "SERVICE_CONTROL_POLICY, TAG_POLICY, BACKUP_POLICY or RESOURCE_CONTROL_POLICY",
            )
            .default(D::Str("SERVICE_CONTROL_POLICY"))
            .text(len(1, 64).one_of(POLICY_TYPES))
            .force_new(),
            attr("content", Json, "the policy document").required(),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "policy_attachment",
        doc: "attaches an organization policy to the root, an OU or an account",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("policy_id", String, "the policy to attach")
                .required()
                .force_new(),
            attr("target_id", String, "the root, OU or account id")
                .required()
                .force_new(),
            id(),
        ],
    },
    Kind {
        name: "delegated_administrator",
        doc: "registers a member account as delegated administrator of a service",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("account_id", String, "the member account")
                .required()
                .force_new(),
            attr("service_principal", String, "e.g. guardduty.amazonaws.com")
                .required()
                .text(len(1, 128).pattern(&PRINCIPAL))
                .force_new(),
            id(),
        ],
    },
    // ---- IAM -------------------------------------------------------------------------------------------
    Kind {
        name: "iam_group",
        doc: "an IAM group with its managed and inline policies",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the group's name")
                .required()
                .text(iam_name(128))
                .force_new(),
            attr("path", String, "the IAM path")
                .text(iam_path())
                .default(D::Str("/")),
            managed_policy_arns(),
            inline_policies(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "iam_role",
        doc: "an IAM role with its trust policy and permissions",
        scope: Scope::Global,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the role's name")
                .required()
                .text(iam_name(64))
                .force_new(),
            attr("path", String, "the IAM path")
                .text(iam_path())
                .default(D::Str("/"))
                .force_new(),
            attr("description", String, "what the role is for")
                .default(D::Str(""))
                .text(len(0, 1000)),
            attr("assume_role_policy", Json, "the trust policy").required(),
            attr("max_session_duration", Number, "seconds, 3600 to 43200")
                .range(3600, 43200)
                .default(D::Number(3600.0)),
            attr(
                "permissions_boundary",
                String,
                "the ARN of the boundary policy",
            )
            .default(D::Str(""))
            .text(len(0, 2048)),
            managed_policy_arns(),
            inline_policies(),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "iam_policy",
        doc: "a customer managed IAM policy",
        scope: Scope::Global,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the policy's name")
                .required()
                .text(iam_name(128))
                .force_new(),
            attr("path", String, "the IAM path")
                .text(iam_path())
                .default(D::Str("/"))
                .force_new(),
            attr("description", String, "what the policy is for")
                .default(D::Str(""))
                .text(len(0, 1000))
                .force_new(),
            attr("policy", Json, "the policy document").required(),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "iam_password_policy",
        doc: "the account's IAM password policy (one per account)",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("minimum_password_length", Number, "6 to 128")
                .default(D::Number(14.0))
                .range(6, 128),
            attr("require_symbols", Bool, "").default(D::Bool(true)),
            attr("require_numbers", Bool, "").default(D::Bool(true)),
            attr("require_uppercase_characters", Bool, "").default(D::Bool(true)),
            attr("require_lowercase_characters", Bool, "").default(D::Bool(true)),
            attr("allow_users_to_change_password", Bool, "").default(D::Bool(true)),
            attr(
                "max_password_age",
                Number,
                "days; 0 means passwords never expire",
            )
            .default(D::Number(0.0))
            .range(0, 1095),
            attr(
                "password_reuse_prevention",
                Number,
                "how many previous passwords are refused; 0 for none",
            )
            .default(D::Number(0.0))
            .range(0, 24),
            id(),
        ],
    },
    Kind {
        name: "iam_account_alias",
        doc: "the account's alias, used in its sign-in URL (one per account)",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("alias", String, "the alias in the account's sign-in URL")
                .required()
                .text(len(3, 63).pattern(&ALIAS)),
            id(),
        ],
    },
    // ---- EC2 networking --------------------------------------------------------------------------------
    Kind {
        name: "vpc",
        doc: "a VPC",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: true,
        attrs: &[
            attr("cidr_block", Cidr, "the primary IPv4 range")
                .required()
                .force_new(),
            attr("enable_dns_support", Bool, "").default(D::Bool(true)),
            attr("enable_dns_hostnames", Bool, "").default(D::Bool(false)),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "subnet",
        doc: "a subnet of a VPC in one availability zone",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("vpc_id", String, "the VPC").required().force_new(),
            attr(
                "cidr_block",
                Cidr,
                "inside the VPC's range, overlapping no other subnet",
            )
            .required()
            .force_new(),
            attr("availability_zone", String, "e.g. eu-west-1a")
                .required()
                .text(len(1, 32).pattern(&ZONE))
                .force_new(),
            attr("map_public_ip_on_launch", Bool, "").default(D::Bool(false)),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "internet_gateway",
        doc: "an internet gateway attached to a VPC",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("vpc_id", String, "the VPC it is attached to").required(),
            tags(),
            id(),
        ],
    },
    Kind {
        name: "nat_gateway",
        doc: "a public NAT gateway with its own elastic IP",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("subnet_id", String, "the public subnet it lives in")
                .required()
                .force_new(),
            tags(),
            id(),
            attr("allocation_id", String, "its elastic IP's allocation").computed(),
            attr("public_ip", String, "its elastic IP").computed(),
        ],
    },
    Kind {
        name: "route_table",
        doc: "a route table with its routes and subnet associations (both exclusive)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("vpc_id", String, "the VPC").required().force_new(),
            attr(
                "routes",
                List(&Object(ROUTE_FIELDS)),
                "exactly these routes besides the local one",
            )
            .default(D::EmptyList),
            attr(
                "subnet_ids",
                STRINGS,
                "exactly these subnets are associated",
            )
            .default(D::EmptyList),
            tags(),
            id(),
        ],
    },
    Kind {
        name: "security_group",
        doc: "a security group with its ingress and egress rules (both exclusive)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "unique in the VPC")
                .required()
                .text(len(1, 255))
                .force_new(),
            attr("description", String, "")
                .default(D::Str("Managed by landfall"))
                .text(len(0, 255))
                .force_new(),
            attr("vpc_id", String, "the VPC").required().force_new(),
            attr(
                "ingress",
                List(&Object(RULE_FIELDS)),
                "exactly these inbound rules",
            )
            .default(D::EmptyList),
            attr(
                "egress",
                List(&Object(RULE_FIELDS)),
                "exactly these outbound rules",
            )
            .default(D::EmptyList),
            tags(),
            id(),
        ],
    },
    Kind {
        name: "default_vpc",
        doc: "the default VPC of an account and region; delete = true removes it",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("delete", Bool, "remove the default VPC").default(D::Bool(true)),
            id(),
        ],
    },
    // ---- Identity and account guardrails ------------------------------------------------------------
    Kind {
        name: "iam_oidc_provider",
        doc: "an IAM OpenID Connect identity provider (CI pipelines assume roles through it)",
        scope: Scope::Global,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr(
                "url",
                String,
                "the issuer URL; one provider per URL in an account",
            )
            .required()
            .text(len(9, 255).pattern(&HTTPS_URL))
            .force_new(),
            attr(
                "client_id_list",
                STRINGS,
                "the audiences (client ids) tokens may carry",
            )
            .default(D::EmptyList)
            .max_items(100)
            .text(len(1, 255)),
            attr(
                "thumbprint_list",
                STRINGS,
                "server certificate thumbprints (IAM trusts well-known issuers' CAs without)",
            )
            .default(D::EmptyList)
            .max_items(5)
            .text(len(40, 40).pattern(&THUMBPRINT)),
            tags(),
            attr("id", String, "the provider's ARN").computed(),
            arn(),
        ],
    },
    Kind {
        name: "ebs_encryption_by_default",
        doc: "EBS encryption by default in an account and region (one per account and region)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr(
                "enabled",
                Bool,
                "new volumes and snapshot copies are encrypted",
            )
            .default(D::Bool(true)),
            attr(
                "kms_key_id",
                String,
                "the key's ARN; empty: the AWS managed key aws/ebs",
            )
            .default(D::Str(""))
            .text(len(0, 2048).pattern(&KMS_KEY_ARN)),
            id(),
        ],
    },
    Kind {
        name: "s3_account_public_access_block",
        doc: "the S3 public access block of a whole account (one per account)",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("block_public_acls", Bool, "").default(D::Bool(true)),
            attr("ignore_public_acls", Bool, "").default(D::Bool(true)),
            attr("block_public_policy", Bool, "").default(D::Bool(true)),
            attr("restrict_public_buckets", Bool, "").default(D::Bool(true)),
            id(),
        ],
    },
    Kind {
        name: "account_alternate_contact",
        doc: "an alternate contact of an account: security, billing or operations",
        scope: Scope::Global,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("contact_type", String, "SECURITY, BILLING or OPERATIONS")
                .required()
                .text(len(1, 16).one_of(&["SECURITY", "BILLING", "OPERATIONS"]))
                .force_new(),
            attr("name", String, "who to contact")
                .required()
                .text(len(1, 64)),
            attr("title", String, "their title or role")
                .required()
                .text(len(1, 50)),
            attr("email_address", String, "")
                .required()
                .text(len(1, 254).pattern(&EMAIL)),
            attr("phone_number", String, "")
                .required()
                .text(len(1, 25).pattern(&PHONE)),
            id(),
        ],
    },
    Kind {
        name: "identitystore_group",
        doc: "a group of IAM Identity Center's Identity Store, to assign permission sets to",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr(
                "display_name",
                String,
                "the group's name; unique in the Identity Store",
            )
            .required()
            .text(len(1, 1024))
            .force_new(),
            attr("description", String, "")
                .default(D::Str(""))
                .text(len(0, 1024)),
            attr(
                "identity_store_id",
                String,
                "the Identity Store; empty: the one of the account and region's Identity Center",
            )
            .default(D::Str(""))
            .text(len(0, 36)),
            attr("id", String, "the group id AWS assigned").computed(),
        ],
    },
    Kind {
        name: "sso_permission_set",
        doc: "an IAM Identity Center permission set with its policies",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "unique in the Identity Center instance")
                .required()
                .text(len(1, 32).pattern(&IAM_NAME))
                .force_new(),
            attr("description", String, "")
                .default(D::Str(""))
                .text(len(0, 700)),
            attr("session_duration", String, "how long a sign-in lasts")
                .default(D::Str("PT1H"))
                .text(len(4, 5).pattern(&SESSION_HOURS)),
            attr("relay_state", String, "the console URL users land on")
                .default(D::Str(""))
                .text(len(0, 240)),
            attr(
                "managed_policy_arns",
                STRINGS,
                "exactly these AWS managed policies are attached",
            )
            .default(D::EmptyList)
            .max_items(20)
            .text(len(20, 2048).pattern(&ARN)),
            attr(
                "customer_managed_policies",
                List(&Object(POLICY_REFERENCE_FIELDS)),
                "exactly these customer managed policies, by name (and path) in each account",
            )
            .default(D::EmptyList)
            .max_items(20),
            attr("inline_policy", Json, "the inline policy document, if any"),
            attr(
                "instance_arn",
                String,
                "the Identity Center instance; empty: the one of the account and region",
            )
            .default(D::Str(""))
            .text(len(0, 1224).pattern(&SSO_INSTANCE))
            .force_new(),
            tags(),
            attr("id", String, "the permission set's ARN").computed(),
            arn(),
        ],
    },
    Kind {
        name: "sso_account_assignment",
        doc: "gives a group (or user) of Identity Center a permission set in an account",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("permission_set_arn", String, "the permission set")
                .required()
                .force_new(),
            attr("principal_id", String, "the group's (or user's) id")
                .required()
                .text(len(1, 47))
                .force_new(),
            attr("principal_type", String, "GROUP or USER")
                .default(D::Str("GROUP"))
                .text(len(1, 5).one_of(&["GROUP", "USER"]))
                .force_new(),
            attr("account_id", String, "the account")
                .required()
                .text(len(12, 12).pattern(&ACCOUNT_ID))
                .force_new(),
            attr(
                "instance_arn",
                String,
                "the Identity Center instance; empty: the one of the account and region",
            )
            .default(D::Str(""))
            .text(len(0, 1224).pattern(&SSO_INSTANCE))
            .force_new(),
            id(),
        ],
    },
    // ---- Network hub (issue 13) ---------------------------------------------------------------------
    Kind {
        name: "transit_gateway",
        doc: "a transit gateway, the hub workload VPCs attach to; share it with ram_resource_share",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("description", String, "what the gateway is for")
                .default(D::Str(""))
                .text(len(0, 255)),
            attr(
                "amazon_side_asn",
                Number,
                "the BGP ASN of the AWS side: 64512 to 65534 or 4200000000 to 4294967294",
            )
            .default(D::Number(64512.0))
            .range(64512, 4294967294)
            .force_new(),
            attr(
                "default_route_table_association",
                Bool,
                "associate new attachments with the default route table",
            )
            .default(D::Bool(false)),
            attr(
                "default_route_table_propagation",
                Bool,
                "propagate new attachments' routes to the default route table",
            )
            .default(D::Bool(false)),
            attr(
                "auto_accept_shared_attachments",
                Bool,
                "accept attachments from other accounts without asking",
            )
            .default(D::Bool(false)),
            attr(
                "dns_support",
                Bool,
                "resolve public DNS names to private addresses across VPCs",
            )
            .default(D::Bool(true)),
            tags(),
            id(),
            arn(),
            attr("owner_id", String, "the account that owns the gateway").computed(),
        ],
    },
    Kind {
        name: "ram_resource_share",
        doc: "a RAM resource share: resources of this account made usable by the organization, OUs or accounts",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the share's name")
                .required()
                .text(len(1, 255)),
            attr(
                "allow_external_principals",
                Bool,
                "allow principals outside the organization",
            )
            .default(D::Bool(false)),
            attr(
                "principals",
                STRINGS,
                "exactly these principals: the organization's or OUs' ARNs, account ids",
            )
            .default(D::EmptyList)
            .text(len(1, 2048)),
            attr(
                "resource_arns",
                STRINGS,
                "exactly these resources are shared",
            )
            .default(D::EmptyList)
            .text(len(20, 2048).pattern(&ARN)),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "transit_gateway_vpc_attachment",
        doc: "a VPC attached to a transit gateway, from the VPC's account; accepted in the gateway's account when AWS asks",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr(
                "transit_gateway_id",
                String,
                "the gateway, possibly another account's shared through RAM",
            )
            .required()
            .force_new(),
            attr("vpc_id", String, "the VPC to attach")
                .required()
                .force_new(),
            attr(
                "subnet_ids",
                STRINGS,
                "one subnet per availability zone the attachment serves",
            )
            .required(),
            attr("dns_support", Bool, "").default(D::Bool(true)),
            tags(),
            id(),
            attr("vpc_owner_id", String, "the account that owns the VPC").computed(),
        ],
    },
    Kind {
        name: "transit_gateway_route_table",
        doc: "a transit gateway route table with its associations, propagations and static routes (all exclusive)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("transit_gateway_id", String, "the gateway")
                .required()
                .force_new(),
            attr(
                "associations",
                STRINGS,
                "exactly these attachments route through this table (each through one table only)",
            )
            .default(D::EmptyList),
            attr(
                "propagations",
                STRINGS,
                "exactly these attachments propagate their routes to this table",
            )
            .default(D::EmptyList),
            attr(
                "routes",
                List(&Object(TGW_ROUTE_FIELDS)),
                "exactly these static routes",
            )
            .default(D::EmptyList),
            tags(),
            id(),
        ],
    },
    Kind {
        name: "vpc_endpoint",
        doc: "a VPC endpoint: gateway (S3, DynamoDB; routes in route tables) or interface (subnets, security groups, private DNS)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("vpc_id", String, "the VPC").required().force_new(),
            attr(
                "service_name",
                String,
                "the service, e.g. com.amazonaws.eu-west-1.s3",
            )
            .required()
            .text(len(1, 255))
            .force_new(),
            attr("vpc_endpoint_type", String, "Gateway or Interface")
                .default(D::Str("Gateway"))
                .text(len(7, 9).one_of(&["Gateway", "Interface"]))
                .force_new(),
            attr(
                "route_table_ids",
                STRINGS,
                "gateway: exactly these route tables get the service's route",
            )
            .default(D::EmptyList)
            .max_items(255),
            attr(
                "subnet_ids",
                STRINGS,
                "interface: one subnet per availability zone served",
            )
            .default(D::EmptyList),
            attr(
                "security_group_ids",
                STRINGS,
                "interface: exactly these security groups (at most 5)",
            )
            .default(D::EmptyList)
            .max_items(5),
            attr(
                "private_dns_enabled",
                Bool,
                "interface: the service's public name resolves to the endpoint inside the VPC",
            )
            .default(D::Bool(false)),
            attr(
                "policy",
                Json,
                "the endpoint policy (at most 20,480 characters); compared by meaning; unset leaves AWS's (full access)",
            ),
            tags(),
            id(),
        ],
    },
    // ---- Logging: KMS, S3 log buckets, CloudTrail, flow logs ----------------------------------------
    Kind {
        name: "kms_key",
        doc: "a customer managed KMS key with its key policy and rotation",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("description", String, "what the key is for")
                .default(D::Str(""))
                .text(len(0, 8192)),
            attr(
                "policy",
                Json,
                "the key policy (at most 32 KB); compared by meaning",
            )
            .required(),
            attr("enable_key_rotation", Bool, "rotate the key material yearly")
                .default(D::Bool(true)),
            attr(
                "deletion_window_in_days",
                Number,
                "days between destroy and the key's deletion (ScheduleKeyDeletion)",
            )
            .default(D::Number(30.0))
            .range(7, 30),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "kms_alias",
        doc: "an alias (alias/...) pointing at a KMS key",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "alias/ followed by the name; unique per account and region")
                .required()
                .text(len(7, 256).pattern(&KMS_ALIAS))
                .force_new(),
            attr("target_key_id", String, "the key's id (kms_key.NAME.id)").required(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "s3_bucket",
        doc: "an S3 bucket (e.g. the log archive) with versioning, encryption, public access block, lifecycle and policy",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("bucket", String, "the bucket's name; unique across AWS")
                .required()
                .text(len(3, 63).pattern(&BUCKET_NAME))
                .force_new(),
            attr("versioning", Bool, "keep every version of each object").default(D::Bool(false)),
            attr(
                "kms_master_key_id",
                String,
                "default encryption with this KMS key (SSE-KMS); empty for SSE-S3",
            )
            .default(D::Str(""))
            .text(len(0, 2048)),
            attr(
                "block_public_access",
                Bool,
                "all four public access block settings on the bucket",
            )
            .default(D::Bool(true)),
            attr(
                "lifecycle_rules",
                List(&Object(LIFECYCLE_FIELDS)),
                "exactly these lifecycle rules (enabled)",
            )
            .default(D::EmptyList),
            attr(
                "policy",
                Json,
                "the bucket policy (at most 20 KB); compared by meaning; unset leaves it alone",
            ),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "cloudtrail_trail",
        doc: "a CloudTrail trail; is_organization_trail = true (from the management account) logs every account",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "unique per account and region")
                .required()
                .text(len(3, 128).pattern(&TRAIL_NAME))
                .force_new(),
            attr("s3_bucket_name", String, "the bucket receiving the log files")
                .required()
                .text(len(3, 63).pattern(&BUCKET_NAME)),
            attr("s3_key_prefix", String, "prefix of the log files' keys")
                .default(D::Str(""))
                .text(len(0, 200)),
            attr("is_multi_region_trail", Bool, "log every region").default(D::Bool(true)),
            attr(
                "include_global_service_events",
                Bool,
                "log IAM, STS and other global services",
            )
            .default(D::Bool(true)),
            attr(
                "enable_log_file_validation",
                Bool,
                "deliver signed digest files",
            )
            .default(D::Bool(true)),
            attr(
                "kms_key_id",
                String,
                "encrypt the log files with this KMS key (its ARN); empty for SSE-S3",
            )
            .default(D::Str(""))
            .text(len(0, 2048)),
            attr(
                "is_organization_trail",
                Bool,
                "log every account of the organization (management account or delegated administrator only; at most one per organization)",
            )
            .default(D::Bool(false)),
            attr("enable_logging", Bool, "whether the trail is logging").default(D::Bool(true)),
            tags(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "flow_log",
        doc: "VPC flow logs delivered to an S3 bucket (e.g. the log archive's)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("vpc_id", String, "the VPC whose traffic is logged")
                .required()
                .force_new(),
            attr(
                "log_destination",
                String,
                "the bucket's ARN, optionally with a folder: arn:aws:s3:::NAME/PREFIX",
            )
            .required()
            .text(len(14, 1024).pattern(&S3_ARN))
            .force_new(),
            attr("traffic_type", String, "ACCEPT, REJECT or ALL")
                .default(D::Str("ALL"))
                .text(len(3, 6).one_of(&["ACCEPT", "REJECT", "ALL"]))
                .force_new(),
            attr(
                "max_aggregation_interval",
                Number,
                "seconds per flow log record: 60 or 600",
            )
            .default(D::Number(600.0))
            .range(60, 600)
            .force_new(),
            tags(),
            id(),
        ],
    },
    // ---- Security services: GuardDuty, Security Hub, AWS Config --------------------------------------
    Kind {
        name: "guardduty_detector",
        doc: "GuardDuty in one account and region (one detector there)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("enable", Bool, "whether the detector is enabled").default(D::Bool(true)),
            attr(
                "finding_publishing_frequency",
                String,
                "how often updated findings are exported",
            )
            .default(D::Str("SIX_HOURS"))
            .text(len(1, 16).one_of(&["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"])),
            tags(),
            id(),
        ],
    },
    Kind {
        name: "guardduty_organization_admin_account",
        doc: "the member account administering GuardDuty for the organization (from the management account)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("admin_account_id", String, "the administrator account (e.g. audit)")
                .required()
                .text(len(12, 12).pattern(&ACCOUNT_ID))
                .force_new(),
            id(),
        ],
    },
    Kind {
        name: "securityhub_account",
        doc: "Security Hub enabled in one account and region",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr(
                "enable_default_standards",
                Bool,
                "enable the default security standards with the hub",
            )
            .default(D::Bool(true))
            .force_new(),
            id(),
            arn(),
        ],
    },
    Kind {
        name: "securityhub_organization_admin_account",
        doc: "the member account administering Security Hub for the organization (from the management account)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("admin_account_id", String, "the administrator account (e.g. audit)")
                .required()
                .text(len(12, 12).pattern(&ACCOUNT_ID))
                .force_new(),
            id(),
        ],
    },
    Kind {
        name: "config_configuration_recorder",
        doc: "the AWS Config recorder of an account and region (one there)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the recorder's name")
                .default(D::Str("default"))
                .text(len(1, 256))
                .force_new(),
            attr("role_arn", String, "the role AWS Config assumes to read resources")
                .required()
                .text(len(20, 2048).pattern(&ARN)),
            attr("all_supported", Bool, "record every supported resource type")
                .default(D::Bool(true)),
            attr(
                "include_global_resource_types",
                Bool,
                "record IAM and other global resources (in one region only)",
            )
            .default(D::Bool(false)),
            attr(
                "recording",
                Bool,
                "whether the recorder runs (it starts once a delivery channel exists)",
            )
            .default(D::Bool(true)),
            id(),
        ],
    },
    Kind {
        name: "config_delivery_channel",
        doc: "where AWS Config delivers snapshots and history (e.g. the log-archive bucket)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the channel's name")
                .default(D::Str("default"))
                .text(len(1, 256))
                .force_new(),
            attr("s3_bucket_name", String, "the bucket receiving the files")
                .required()
                .text(len(3, 63).pattern(&BUCKET_NAME)),
            attr("s3_key_prefix", String, "prefix of the files' keys")
                .default(D::Str(""))
                .text(len(0, 1024)),
            attr("s3_kms_key_arn", String, "encrypt the files with this KMS key")
                .default(D::Str(""))
                .text(len(0, 2048)),
            attr("delivery_frequency", String, "how often snapshots are delivered")
                .default(D::Str("TwentyFour_Hours"))
                .text(len(1, 32).one_of(&[
                    "One_Hour",
                    "Three_Hours",
                    "Six_Hours",
                    "Twelve_Hours",
                    "TwentyFour_Hours",
                ])),
            id(),
        ],
    },
    Kind {
        name: "config_configuration_aggregator",
        doc: "an AWS Config aggregator of the whole organization (in the audit account)",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the aggregator's name")
                .required()
                .text(len(1, 256).pattern(&IAM_NAME))
                .force_new(),
            attr(
                "role_arn",
                String,
                "a role allowing organizations:List* (e.g. with AWSConfigRoleForOrganizations)",
            )
            .required()
            .text(len(20, 2048).pattern(&ARN)),
            attr("all_regions", Bool, "aggregate every region").default(D::Bool(true)),
            tags(),
            id(),
            arn(),
        ],
    },
    // ---- DNS (issue 13) ------------------------------------------------------------------------------
    Kind {
        name: "route53_zone",
        doc: "a Route 53 private hosted zone, created with a VPC of its account and region; more VPCs join with route53_zone_association",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "the zone's domain, e.g. internal.example.com")
                .required()
                .text(len(1, 1024).pattern(&DOMAIN_NAME))
                .force_new(),
            attr("comment", String, "what the zone is for")
                .default(D::Str(""))
                .text(len(0, 256)),
            attr(
                "vpc_id",
                String,
                "the VPC of this account and region the zone is created with",
            )
            .required(),
            attr(
                "force_destroy",
                Bool,
                "on delete, delete the zone's records first (else AWS refuses a zone with records)",
            )
            .default(D::Bool(false)),
            tags(),
            id(),
            attr("owner_id", String, "the account that owns the zone").computed(),
        ],
    },
    Kind {
        name: "route53_zone_association",
        doc: "a VPC associated with a private hosted zone, from the VPC's account; another account's zone is authorized there first",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("zone_id", String, "the hosted zone, possibly another account's")
                .required()
                .text(len(1, 32))
                .force_new(),
            attr("vpc_id", String, "the VPC of this account and region")
                .required()
                .force_new(),
            attr(
                "zone_owner_id",
                String,
                "the zone's account when it is another (e.g. route53_zone's owner_id); empty: this account",
            )
            .default(D::Str(""))
            .text(len(0, 12)),
            id(),
        ],
    },
    Kind {
        name: "route53_resolver_endpoint",
        doc: "a Route 53 Resolver endpoint: OUTBOUND forwards queries out of the VPCs (through rules), INBOUND answers queries from outside",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: true,
        attrs: &[
            attr("name", String, "a friendly name")
                .default(D::Str(""))
                .text(len(0, 64)),
            attr("direction", String, "OUTBOUND or INBOUND")
                .default(D::Str("OUTBOUND"))
                .text(len(1, 16).one_of(&["OUTBOUND", "INBOUND"]))
                .force_new(),
            attr(
                "subnet_ids",
                STRINGS,
                "one IP address in each of these subnets (AWS asks for 2 to 6, in different zones for availability); changes in place",
            )
            .required()
            .max_items(6),
            attr(
                "security_group_ids",
                STRINGS,
                "allowing DNS (TCP and UDP 53) to the targets (outbound) or from the sources (inbound)",
            )
            .required()
            .max_items(64)
            .force_new(),
            tags(),
            id(),
            arn(),
            attr("host_vpc_id", String, "the VPC of the subnets").computed(),
        ],
    },
    Kind {
        name: "route53_resolver_rule",
        doc: "a Route 53 Resolver rule: FORWARD queries for a domain to target IPs through an outbound endpoint; share it with ram_resource_share",
        scope: Scope::Regional,
        taggable: true,
        create_before_destroy: false,
        attrs: &[
            attr("name", String, "a friendly name")
                .default(D::Str(""))
                .text(len(0, 64)),
            attr(
                "domain_name",
                String,
                "queries for this domain and its subdomains, e.g. corp.acme.internal",
            )
            .required()
            .text(len(1, 256).pattern(&DOMAIN_NAME))
            .force_new(),
            attr("rule_type", String, "FORWARD or SYSTEM")
                .default(D::Str("FORWARD"))
                .text(len(1, 16).one_of(&["FORWARD", "SYSTEM"]))
                .force_new(),
            attr(
                "target_ips",
                STRINGS,
                "FORWARD: the DNS servers queries go to, port 53 (Resolver's quota: 6 per rule)",
            )
            .default(D::EmptyList)
            .text(len(7, 15).pattern(&IPV4))
            .max_items(6),
            attr(
                "resolver_endpoint_id",
                String,
                "FORWARD: the outbound endpoint queries leave through",
            )
            .default(D::Str(""))
            .text(len(0, 64)),
            tags(),
            id(),
            arn(),
            attr("owner_id", String, "the account that owns the rule").computed(),
        ],
    },
    Kind {
        name: "route53_resolver_rule_association",
        doc: "a Resolver rule applied to a VPC, from the VPC's account (the rule may be another account's, shared through RAM)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr("resolver_rule_id", String, "the rule, possibly shared by another account")
                .required()
                .text(len(1, 64))
                .force_new(),
            attr("vpc_id", String, "the VPC of this account and region")
                .required()
                .force_new(),
            attr("name", String, "a friendly name")
                .default(D::Str(""))
                .text(len(0, 64))
                .force_new(),
            id(),
            attr("association_id", String, "AWS's id of the association").computed(),
        ],
    },
    // ---- GuardDuty organization auto-enable (issue 13, SEC) ------------------------------------------
    Kind {
        name: "guardduty_organization_configuration",
        doc: "which member accounts GuardDuty enables by itself (in the administrator account, through its detector)",
        scope: Scope::Regional,
        taggable: false,
        create_before_destroy: false,
        attrs: &[
            attr(
                "detector_id",
                String,
                "the delegated administrator's detector in this account and region",
            )
            .required()
            .text(len(1, 300))
            .force_new(),
            attr(
                "auto_enable_organization_members",
                String,
                "NEW (accounts joining), ALL (every member) or NONE",
            )
            .required()
            .text(len(3, 4).one_of(&["NEW", "ALL", "NONE"])),
            attr(
                "features",
                STRING_MAP,
                "feature name (e.g. S3_DATA_EVENTS) -> NEW or ALL; a feature left out is NONE",
            )
            .default(D::EmptyMap)
            .keys(len(1, 64).one_of(&[
                "S3_DATA_EVENTS",
                "EKS_AUDIT_LOGS",
                "EBS_MALWARE_PROTECTION",
                "RDS_LOGIN_EVENTS",
                "EKS_RUNTIME_MONITORING",
                "LAMBDA_NETWORK_LOGS",
                "RUNTIME_MONITORING",
                "AI_PROTECTION",
            ]))
            .text(len(3, 4).one_of(&["NEW", "ALL"])),
            id(),
        ],
    },
];
