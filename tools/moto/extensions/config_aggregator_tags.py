"""AWS Config's PutConfigurationAggregator keeps an existing aggregator's tags, as AWS does.

From the AWS Config API reference (PutConfigurationAggregator): "Tags are added at creation and
cannot be updated with this operation ... If a following request has different tags values, Config
will ignore these differences." moto 5.2.5 replaces them with the request's (none on an update), so
changing an aggregator's role or regions dropped its tags. Tags of an existing aggregator change only
through TagResource/UntagResource.
"""


def _patch(module) -> None:
    put = module.ConfigBackend.put_configuration_aggregator

    def put_configuration_aggregator(self, config_aggregator):
        existing = self.config_aggregators.get(config_aggregator.get("ConfigurationAggregatorName"))
        if existing is None:
            return put(self, config_aggregator)
        tags = existing.tags
        put(self, {**config_aggregator, "Tags": []})
        existing.tags = tags
        return existing.to_dict()

    module.ConfigBackend.put_configuration_aggregator = put_configuration_aggregator


def install(on_import) -> None:
    on_import("moto.config.models", _patch)
