"""RAM's AssociateResourceShare and DisassociateResourceShare, which moto 5.2.5 lacks.

Written from the AWS RAM API reference:
- AssociateResourceShare (POST /associateresourceshare: `resourceShareArn`, `principals`,
  `resourceArns`, `clientToken`) adds principals (account ids, organization/OU ARNs, IAM ARNs, service
  principals, checked as moto checks them at CreateResourceShare) and resource ARNs of shareable types
  to an active share; an entity already associated is not added twice.
- DisassociateResourceShare (POST /disassociateresourceshare, same parameters) removes them; entities
  the share is not associated with are left out of the answer.
Both answer `resourceShareAssociations` (one per entity: share ARN and name, `associatedEntity`,
`associationType` PRINCIPAL or RESOURCE, `status` ASSOCIATING or DISASSOCIATING, `external` false) and
the `clientToken`. An unknown or deleted share is UnknownResourceException. The change takes effect at
once (AWS finishes it asynchronously; GetResourceShareAssociations then lists only what is associated).
"""

import json

from extensions.ram_resource_share_tags import add_operations, find_share


def _entries(share, entities, kind, status):
    from moto.core.utils import unix_time

    return [
        {
            "resourceShareArn": share.arn,
            "resourceShareName": share.name,
            "associatedEntity": entity,
            "associationType": kind,
            "status": status,
            "creationTime": unix_time(share.creation_time),
            "lastUpdatedTime": unix_time(share.last_updated_time),
            "external": False,
        }
        for entity in entities
    ]


def associate_resource_share(self) -> str:
    params = self.request_params
    share = find_share(self.ram_backend, params.get("resourceShareArn"))
    principals = [p for p in params.get("principals") or [] if p not in share.principals]
    resources = [r for r in params.get("resourceArns") or [] if r not in share.resource_arns]
    share.add_principals(principals)
    share.add_resources(resources)
    entries = _entries(share, principals, "PRINCIPAL", "ASSOCIATING")
    entries += _entries(share, resources, "RESOURCE", "ASSOCIATING")
    return json.dumps({"resourceShareAssociations": entries, "clientToken": params.get("clientToken")})


def disassociate_resource_share(self) -> str:
    params = self.request_params
    share = find_share(self.ram_backend, params.get("resourceShareArn"))
    principals = [p for p in params.get("principals") or [] if p in share.principals]
    resources = [r for r in params.get("resourceArns") or [] if r in share.resource_arns]
    share.principals = [p for p in share.principals if p not in principals]
    share.resource_arns = [r for r in share.resource_arns if r not in resources]
    entries = _entries(share, principals, "PRINCIPAL", "DISASSOCIATING")
    entries += _entries(share, resources, "RESOURCE", "DISASSOCIATING")
    return json.dumps({"resourceShareAssociations": entries, "clientToken": params.get("clientToken")})


def install(on_import) -> None:
    add_operations(
        on_import,
        {
            "associateresourceshare": associate_resource_share,
            "disassociateresourceshare": disassociate_resource_share,
        },
    )
