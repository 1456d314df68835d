"""A transit gateway route's target attachment, reported as AWS reports it.

From the Amazon EC2 API reference: a TransitGatewayRoute's `transitGatewayAttachments` is a list of
TransitGatewayRouteAttachment (resourceId, resourceType, transitGatewayAttachmentId), returned by
CreateTransitGatewayRoute and SearchTransitGatewayRoutes. moto 5.2.5 stores a single attachment
where the list belongs, so its answers serialize an empty list, and a route to an attachment read
back names no target (a route retargeted outside landfall could not be seen). This keeps the stored
attachment as a one-element list.
"""


def _patch(module) -> None:
    backend = module.TransitGatewayRouteTableBackend
    create = backend.create_transit_gateway_route

    def create_transit_gateway_route(self, *args, **kwargs):
        route = create(self, *args, **kwargs)
        target = route.get("transitGatewayAttachments")
        if isinstance(target, dict):
            route["transitGatewayAttachments"] = [target]
        return route

    backend.create_transit_gateway_route = create_transit_gateway_route


def install(on_import) -> None:
    on_import("moto.ec2.models.transit_gateway_route_tables", _patch)
