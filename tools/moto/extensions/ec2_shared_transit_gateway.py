"""Transit gateway VPC attachments across accounts, to a gateway shared through RAM.

moto 5.2.5 keeps transit gateways per account and region, so CreateTransitGatewayVpcAttachment from
another account than the gateway's answers InvalidTransitGatewayID.NotFound, and it has no
AcceptTransitGatewayVpcAttachment. This extension adds, after the AWS EC2 API reference and the
Transit Gateway guide ("Share a transit gateway"):

- CreateTransitGatewayVpcAttachment in a member account for a gateway of another account in the same
  region, when a RAM resource share of the gateway's owner that is ACTIVE lists the gateway's ARN and,
  as a principal, the member account's id, the ARN of its organization, or the ARN of an OU of its
  organization (an OU principal is not checked for holding the account). Otherwise the answer is
  AWS's: the gateway does not exist for the caller.
- The attachment is one object seen by both accounts: DescribeTransitGatewayAttachments and
  DescribeTransitGatewayVpcAttachments list it in the VPC owner's and in the gateway owner's account,
  with ResourceOwnerId/VpcOwnerId the VPC's account and TransitGatewayOwnerId the gateway's.
- Its state is `pendingAcceptance` unless the gateway's AutoAcceptSharedAttachments is enabled.
  AcceptTransitGatewayVpcAttachment / RejectTransitGatewayVpcAttachment (gateway owner only, state
  pendingAcceptance, else IncorrectState) make it `available` (associated with / propagating to the
  default route table when the gateway's defaults say so) or `rejected`.
- A shared attachment is associated with the default route table only when the gateway's
  DefaultRouteTableAssociation is enabled (moto associates every attachment). The owner's
  AssociateTransitGatewayRouteTable and EnableTransitGatewayRouteTablePropagation work on it, and
  DescribeTransitGatewayAttachments reports the route table it is associated with (moto: the default).
- DeleteTransitGatewayVpcAttachment from either account removes it from both, with its route table
  associations and propagations in the gateway owner's account.

Same-account attachments keep moto's behaviour, except that a deleted attachment also leaves the
gateway's route tables (as in AWS).
"""

from moto.ec2.exceptions import EC2ClientError, InvalidTransitGatewayID

MODELS = "moto.ec2.models.transit_gateway_attachments"
RESPONSES = "moto.ec2.responses.transit_gateway_attachments"


class _NotFound(EC2ClientError):
    def __init__(self, attachment_id: str):
        super().__init__(
            "InvalidTransitGatewayAttachmentID.NotFound",
            f"Transit Gateway Attachment {attachment_id} does not exist.",
        )


class _IncorrectState(EC2ClientError):
    def __init__(self, attachment_id: str, state: str):
        super().__init__(
            "IncorrectState",
            f"tgw-attachment {attachment_id} is in invalid state {state}",
        )


def _organization(account_id: str):
    """The organization `account_id` belongs to (as management or member account), or None."""
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account_id, (account_id, "aws"))
    return organizations_backends[master[0]][master[1]].org


def _shared_with(owner: str, region: str, gateway_arn: str, member: str) -> bool:
    from moto.ram.models import ram_backends

    org = _organization(member)
    for share in ram_backends[owner][region].resource_shares:
        if share.status != "ACTIVE" or gateway_arn not in share.resource_arns:
            continue
        for principal in share.principals:
            if principal == member:
                return True
            if org is not None and (principal == org.arn or f":ou/{org.id}/" in principal):
                return True
    return False


def _backends(backend):
    """Every EC2 backend (all accounts and regions) made so far."""
    return type(backend)._get_peering_attachment_backend_refs()


def _gateway_owner(backend, gateway_id: str):
    """The backend of the same region, in another account, that holds `gateway_id`."""
    for other in _backends(backend):
        if (
            other is not backend
            and other.region_name == backend.region_name
            and gateway_id in other.transit_gateways
        ):
            return other
    return None


def _create_shared(models, backend, owner, gateway, vpc_id, subnet_ids, tags, options):
    if not _shared_with(owner.account_id, backend.region_name, gateway.arn, backend.account_id):
        raise InvalidTransitGatewayID(
            gateway.id, f"Transit Gateway {gateway.id} was deleted or does not exist."
        )
    attachment = models.TransitGatewayVpcAttachment(
        backend,
        transit_gateway=gateway,
        tags=tags,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        options=options,
    )
    attachment.gateway_owner_id = owner.account_id
    attachment.transit_gateway_route_table = None
    backend.transit_gateway_attachments[attachment.id] = attachment
    owner.transit_gateway_attachments[attachment.id] = attachment
    if gateway.options.get("AutoAcceptSharedAttachments") == "enable":
        _make_available(owner, attachment, gateway)
    else:
        attachment.state = "pendingAcceptance"
    return attachment


def _make_available(owner, attachment, gateway) -> None:
    attachment.state = "available"
    default = gateway.default_route_table.id
    if gateway.options.get("DefaultRouteTableAssociation") == "enable":
        owner.associate_transit_gateway_route_table(attachment.id, default)
        attachment.transit_gateway_route_table = gateway.default_route_table
    if gateway.options.get("DefaultRouteTablePropagation") == "enable":
        owner.enable_transit_gateway_route_table_propagation(attachment.id, default)


def _forget(backend, attachment_id: str) -> None:
    """Drops the attachment's route table associations and propagations in `backend`."""
    for table in backend.transit_gateways_route_tables.values():
        table.route_table_associations.pop(attachment_id, None)
        table.route_table_propagation = [
            p for p in table.route_table_propagation if p.transitGatewayAttachmentId != attachment_id
        ]
    backend.transit_gateway_associations.pop(attachment_id, None)
    backend.transit_gateway_propagations.pop(attachment_id, None)


def _patch_models(models) -> None:
    backend_class = models.TransitGatewayAttachmentBackend
    original_create = backend_class.create_transit_gateway_vpc_attachment
    original_delete = backend_class.delete_transit_gateway_vpc_attachment

    def create(self, transit_gateway_id, vpc_id, subnet_ids, tags=None, options=None):
        owner = None
        if transit_gateway_id not in self.transit_gateways:
            owner = _gateway_owner(self, transit_gateway_id)
        if owner is None:
            return original_create(self, transit_gateway_id, vpc_id, subnet_ids, tags, options)
        if self.describe_transit_gateway_vpc_attachments(
            filters={"transit-gateway-id": [transit_gateway_id], "vpc-id": [vpc_id]}
        ):
            from moto.ec2.exceptions import DuplicateTransitGatewayAttachmentError

            raise DuplicateTransitGatewayAttachmentError(transit_gateway_id)
        gateway = owner.transit_gateways[transit_gateway_id]
        return _create_shared(models, self, owner, gateway, vpc_id, subnet_ids, tags, options)

    def delete(self, transit_gateway_attachment_id):
        if transit_gateway_attachment_id not in self.transit_gateway_attachments:
            raise _NotFound(transit_gateway_attachment_id)
        attachment = original_delete(self, transit_gateway_attachment_id)
        for other in _backends(self):
            if other.region_name == self.region_name:
                other.transit_gateway_attachments.pop(transit_gateway_attachment_id, None)
                _forget(other, transit_gateway_attachment_id)
        return attachment

    def decide(self, attachment_id: str, accept: bool):
        attachment = self.transit_gateway_attachments.get(attachment_id)
        if attachment is None or attachment.resource_type != "vpc":
            raise _NotFound(attachment_id)
        gateway = self.transit_gateways.get(attachment.transit_gateway_id)
        if gateway is None:
            raise _NotFound(attachment_id)
        if attachment.state != "pendingAcceptance":
            raise _IncorrectState(attachment_id, attachment.state)
        if accept:
            _make_available(self, attachment, gateway)
        else:
            attachment.state = "rejected"
        return attachment

    backend_class.create_transit_gateway_vpc_attachment = create
    backend_class.delete_transit_gateway_vpc_attachment = delete
    backend_class.accept_transit_gateway_vpc_attachment = lambda self, i: decide(self, i, True)
    backend_class.reject_transit_gateway_vpc_attachment = lambda self, i: decide(self, i, False)
    attachment_class = models.TransitGatewayAttachment
    attachment_class.transit_gateway_owner_id = property(
        lambda self: getattr(self, "gateway_owner_id", self.resource_owner_id)
    )
    original_association = attachment_class.association

    def association(self):
        data = self._association_data
        if self.state == "available" and data.get("transitGatewayRouteTableId"):
            return {"State": "associated", "TransitGatewayRouteTableId": data["transitGatewayRouteTableId"]}
        return original_association.fget(self)

    attachment_class.association = property(association)


def _patch_responses(responses) -> None:
    from moto.core.responses import ActionResult

    def answer(method: str):
        def action(self):
            attachment_id = self._get_param("TransitGatewayAttachmentId")
            attachment = getattr(self.ec2_backend, method)(attachment_id)
            return ActionResult({"TransitGatewayVpcAttachment": attachment})

        return action

    cls = responses.TransitGatewayAttachment
    cls.accept_transit_gateway_vpc_attachment = answer("accept_transit_gateway_vpc_attachment")
    cls.reject_transit_gateway_vpc_attachment = answer("reject_transit_gateway_vpc_attachment")


def install(on_import) -> None:
    on_import(MODELS, _patch_models)
    on_import(RESPONSES, _patch_responses)
