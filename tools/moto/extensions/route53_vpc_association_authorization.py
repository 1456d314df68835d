"""Route 53: associating a VPC with a private hosted zone of another account (moto 5.2.5 lacks it).

Written from the Route 53 API reference (2013-04-01) and the developer guide's "Associating an Amazon
VPC and a private hosted zone that you created with different AWS accounts". Adds:

- CreateVPCAssociationAuthorization (POST /hostedzone/{Id}/authorizevpcassociation), from the zone's
  account: authorizes the VPC's account to associate that VPC (one authorization per VPC).
- ListVPCAssociationAuthorizations (GET /hostedzone/{Id}/authorizevpcassociation).
- DeleteVPCAssociationAuthorization (POST /hostedzone/{Id}/deauthorizevpcassociation);
  VPCAssociationAuthorizationNotFound when there is none. Existing associations stay.
- AssociateVPCWithHostedZone from the VPC's account for another account's zone: allowed only while an
  authorization for that VPC exists, NotAuthorizedException otherwise. In any account the VPC must be
  the caller's (InvalidVPCId otherwise), as AWS requires.
- DisassociateVPCFromHostedZone from either the zone's or the VPC's account; VPCAssociationNotFound when
  the VPC is not associated.
- ListHostedZonesByVPC lists the zones of every account the VPC is associated with, each with its
  owning account.
"""

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult


class NotAuthorized(ServiceException):
    code = "NotAuthorizedException"


class AuthorizationNotFound(ServiceException):
    code = "VPCAssociationAuthorizationNotFound"


class AssociationNotFound(ServiceException):
    code = "VPCAssociationNotFound"


class InvalidVpc(ServiceException):
    code = "InvalidVPCId"


def _backends():
    from moto.route53.models import route53_backends

    for account_id in list(route53_backends.keys()):
        yield route53_backends[account_id]["aws"]


def _zone_anywhere(backend, zone_id):
    """The zone and its owner's backend: the caller's own first, then any other account's."""
    key = zone_id.replace("/hostedzone/", "")
    if key in backend.zones:
        return backend, backend.zones[key]
    for other in _backends():
        if key in other.zones:
            return other, other.zones[key]
    from moto.route53.exceptions import NoSuchHostedZone

    raise NoSuchHostedZone(zone_id)


def _own_vpc(account_id, vpc_id, region):
    from moto.ec2.models import ec2_backends

    if region and vpc_id not in ec2_backends[account_id][region].vpcs:
        raise InvalidVpc(f"The VPC {vpc_id} in {region} does not belong to account {account_id}.")


def _authorizations(zone):
    if not hasattr(zone, "authorized_vpcs"):
        zone.authorized_vpcs = []
    return zone.authorized_vpcs


def _patch_models(models):
    backend_cls = models.Route53Backend

    def associate(self, zone_id, vpcid, vpcregion):
        owner, zone = _zone_anywhere(self, zone_id)
        if not zone.private_zone:
            raise models.PublicZoneVPCAssociation()
        _own_vpc(self.account_id, vpcid, vpcregion)
        if owner is not self and not any(a["vpc_id"] == vpcid for a in _authorizations(zone)):
            raise NotAuthorized(
                f"The VPC {vpcid} is not authorized to associate with hosted zone {zone.resource_id}."
            )
        if not any(v.get("vpc_id") == vpcid for v in zone.vpcs):
            zone.add_vpc(vpcid, vpcregion)
        return zone

    def disassociate(self, zone_id, vpcid):
        _, zone = _zone_anywhere(self, zone_id)
        if not any(v.get("vpc_id") == vpcid for v in zone.vpcs):
            raise AssociationNotFound(f"The VPC {vpcid} is not associated with the hosted zone.")
        if len(zone.vpcs) <= 1:
            raise models.LastVPCAssociation()
        zone.delete_vpc(vpcid)
        return zone

    def by_vpc(self, vpc_id):
        return [
            {
                "HostedZoneId": zone.resource_id,
                "Name": zone.name,
                "Owner": {"OwningAccount": backend.account_id},
            }
            for backend in _backends()
            for zone in backend.zones.values()
            if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs)
        ]

    backend_cls.associate_vpc_with_hosted_zone = associate
    backend_cls.disassociate_vpc_from_hosted_zone = disassociate
    backend_cls.list_hosted_zones_by_vpc = by_vpc


def _patch_responses(responses):
    cls = responses.Route53

    def _vpc(self):
        return {"VPCId": self._get_param("VPC.VPCId"), "VPCRegion": self._get_param("VPC.VPCRegion")}

    def create_vpc_association_authorization(self):
        zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))
        vpc = _vpc(self)
        authorized = _authorizations(zone)
        if not any(a["vpc_id"] == vpc["VPCId"] for a in authorized):
            authorized.append({"vpc_id": vpc["VPCId"], "vpc_region": vpc["VPCRegion"]})
        return ActionResult({"HostedZoneId": zone.resource_id, "VPC": vpc})

    def list_vpc_association_authorizations(self):
        zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))
        vpcs = [{"VPCId": a["vpc_id"], "VPCRegion": a["vpc_region"]} for a in _authorizations(zone)]
        return ActionResult({"HostedZoneId": zone.resource_id, "VPCs": vpcs})

    def delete_vpc_association_authorization(self):
        zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))
        vpc_id = self._get_param("VPC.VPCId")
        authorized = _authorizations(zone)
        if not any(a["vpc_id"] == vpc_id for a in authorized):
            raise AuthorizationNotFound(f"The VPC {vpc_id} is not authorized for the hosted zone.")
        zone.authorized_vpcs = [a for a in authorized if a["vpc_id"] != vpc_id]
        return EmptyResult()

    cls.create_vpc_association_authorization = create_vpc_association_authorization
    cls.list_vpc_association_authorizations = list_vpc_association_authorizations
    cls.delete_vpc_association_authorization = delete_vpc_association_authorization


def _patch_urls(urls):
    base = r"{0}/(?P<api_version>[\d_-]+)/hostedzone/(?P<zone_id>[^/]+)"
    dispatch = urls.Route53.dispatch
    urls.url_paths[base + r"/authorizevpcassociation/?$"] = dispatch
    urls.url_paths[base + r"/deauthorizevpcassociation/?$"] = dispatch


def install(on_import):
    on_import("moto.route53.models", _patch_models)
    on_import("moto.route53.responses", _patch_responses)
    on_import("moto.route53.urls", _patch_urls)
