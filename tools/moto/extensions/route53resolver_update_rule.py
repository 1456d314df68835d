"""Route 53 Resolver's UpdateResolverRule, which moto 5.2.5 lacks.

Written from the Route 53 Resolver API reference (UpdateResolverRule): `ResolverRuleId` and `Config`
with any of `Name`, `TargetIps` and `ResolverEndpointId`; what `Config` leaves out stays as it is. The
answer is the rule as it is after the change (`ResolverRule`). A rule that does not exist, or an endpoint
that does not exist in the caller's account and region, is ResourceNotFoundException; a target IP that
is not an IPv4 address is InvalidParameterException (as moto's CreateResolverRule checks it).
"""

import json
from datetime import datetime, timezone
from ipaddress import IPv4Address, ip_address


def _update_resolver_rule(backend, rule_id, config):
    from moto.route53resolver.exceptions import (
        InvalidParameterException,
        ResourceNotFoundException,
    )

    if rule_id not in backend.resolver_rules:
        raise ResourceNotFoundException(f"Resolver rule with ID '{rule_id}' does not exist.")
    rule = backend.resolver_rules[rule_id]
    endpoint = config.get("ResolverEndpointId")
    if endpoint is not None and endpoint not in backend.resolver_endpoints:
        raise ResourceNotFoundException(f"Resolver endpoint with ID '{endpoint}' does not exist.")
    targets = config.get("TargetIps")
    for target in targets or []:
        try:
            valid = isinstance(ip_address(target.get("Ip", "")), IPv4Address)
        except ValueError:
            valid = False
        if not valid:
            raise InvalidParameterException(f"Invalid IP address: '{target.get('Ip')}'")
    if "Name" in config:
        rule.name = config["Name"]
    if targets is not None:
        rule.target_ips = [{"Ip": t["Ip"], "Port": t.get("Port", 53)} for t in targets]
    if endpoint is not None:
        rule.resolver_endpoint_id = endpoint
    rule.modification_time = datetime.now(timezone.utc).isoformat()
    return rule


def update_resolver_rule(self) -> str:
    rule = _update_resolver_rule(
        self.route53resolver_backend,
        self._get_param("ResolverRuleId"),
        self._get_param("Config") or {},
    )
    return json.dumps({"ResolverRule": rule.description()})


def _patch(module) -> None:
    module.Route53ResolverResponse.update_resolver_rule = update_resolver_rule


def install(on_import) -> None:
    on_import("moto.route53resolver.responses", _patch)
