"""VPC endpoint behaviour moto lacks: DescribeVpcEndpoints filters, and routes of route tables added
to or removed from a gateway endpoint.

moto 5.2.5 filters VPC endpoints only on vpc-endpoint-type, vpc-endpoint-state and tags, and answers
HTTP 500 for any other filter. This extension adds, as the AWS EC2 API reference lists them for
DescribeVpcEndpoints: `vpc-endpoint-id`, `vpc-id` and `service-name`.

moto's ModifyVpcEndpoint records AddRouteTableIds/RemoveRouteTableIds on a gateway endpoint without
adding or removing the service's prefix-list route in those tables (AWS does both), so a later
DeleteVpcEndpoints fails with InvalidRoute.NotFound. This extension adds and removes the route.
"""

MODELS = "moto.ec2.models.vpcs"

_FILTERS = {
    "vpc-endpoint-id": "id",
    "vpc-id": "vpc_id",
    "service-name": "service_name",
}


def _patch(models) -> None:
    endpoint = models.VPCEndPoint
    original_filter = endpoint.get_filter_value
    original_modify = endpoint.modify

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name in _FILTERS:
            return getattr(self, _FILTERS[filter_name])
        return original_filter(self, filter_name, method_name)

    def modify(self, policy_doc, add_subnets, remove_subnets, add_route_tables,
               remove_route_tables, add_security_groups, remove_security_groups):
        before = set(self.route_table_ids)
        original_modify(self, policy_doc, add_subnets, remove_subnets, add_route_tables,
                        remove_route_tables, add_security_groups, remove_security_groups)
        prefix_list = self.destination_prefix_list_id
        if not prefix_list:
            return
        backend = self.ec2_backend
        for table in set(self.route_table_ids) - before:
            backend.create_route(table, None, gateway_id=self.id,
                                 destination_prefix_list_id=prefix_list)
        for table in before - set(self.route_table_ids):
            backend.delete_route(table, prefix_list)

    endpoint.get_filter_value = get_filter_value
    endpoint.modify = modify


def install(on_import) -> None:
    on_import(MODELS, _patch)
