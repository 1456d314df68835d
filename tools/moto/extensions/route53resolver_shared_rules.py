"""Route 53 Resolver: using a forwarding rule another account shared through RAM (moto 5.2.5 lacks it).

Written from the Route 53 Resolver API reference and the developer guide's "Sharing forwarding rules
with other AWS accounts and using shared rules": an account a rule is shared with (through an active
RAM resource share of the rule's owner, whose principals name the account, its organization or an OU
above it) may associate the rule with its own VPCs. moto finds rules only in the caller's account.
Adds, for such a shared rule and from the account it is shared with:

- AssociateResolverRule (the association belongs to the caller's account; its VPC must be the caller's);
- DisassociateResolverRule;
- GetResolverRule.

A rule that is not shared with the caller stays unknown to it (ResourceNotFoundException), as in AWS.
"""


def _rule_id(args, kwargs):
    return kwargs.get("resolver_rule_id", args[0] if args else None)


def _in_organization_path(account_id, principal):
    """Whether an organization or OU ARN `principal` contains `account_id` (the organization is kept by
    its management account, whose id is in the ARN)."""
    from moto.organizations.models import organizations_backends

    if not principal.startswith("arn:aws:organizations::"):
        return False
    organizations = organizations_backends[principal.split(":")[4]]["aws"]
    if not any(a.id == account_id for a in organizations.accounts):
        return False
    if ":organization/" in principal:
        return True
    child = account_id
    for _ in range(10):  # AWS allows five levels of OUs under the root
        parents = organizations.list_parents(ChildId=child)["Parents"]
        if not parents or parents[0]["Type"] != "ORGANIZATIONAL_UNIT":
            return False
        child = parents[0]["Id"]
        if principal.endswith("/" + child):
            return True
    return False


def _shared_with(account_id, rule, owner_id, region):
    from moto.ram.models import ram_backends

    for share in ram_backends[owner_id][region].resource_shares:
        if share.status != "ACTIVE" or rule.arn not in share.resource_arns:
            continue
        if any(p == account_id or _in_organization_path(account_id, p) for p in share.principals):
            return True
    return False


def _shared_rule(backend, rule_id):
    """The rule `rule_id` of another account in the same region, when it is shared with the caller."""
    from moto.route53resolver.models import route53resolver_backends

    for owner_id in list(route53resolver_backends.keys()):
        if owner_id == backend.account_id:
            continue
        other = route53resolver_backends[owner_id][backend.region_name]
        rule = other.resolver_rules.get(rule_id)
        if rule is not None:
            shared = _shared_with(backend.account_id, rule, owner_id, backend.region_name)
            return rule if shared else None
    return None


def _with_shared_rule(original):
    def wrapper(self, *args, **kwargs):
        rule_id = _rule_id(args, kwargs)
        if rule_id in self.resolver_rules:
            return original(self, *args, **kwargs)
        rule = _shared_rule(self, rule_id)
        if rule is None:
            return original(self, *args, **kwargs)
        # Seen by the caller for the length of the call only: it stays the owner's rule.
        self.resolver_rules[rule_id] = rule
        try:
            return original(self, *args, **kwargs)
        finally:
            self.resolver_rules.pop(rule_id, None)

    return wrapper


def _patch(models):
    cls = models.Route53ResolverBackend
    for name in ("associate_resolver_rule", "disassociate_resolver_rule", "get_resolver_rule"):
        setattr(cls, name, _with_shared_rule(getattr(cls, name)))


def install(on_import):
    on_import("moto.route53resolver.models", _patch)
