"""Tags on RAM resource shares.

moto 5.2.5 drops the `tags` of CreateResourceShare and answers GetResourceShares without them, so a
share cannot be recognised by its tags (landfall's `landfall:address`) after state is lost. This
extension keeps the tags given to CreateResourceShare and returns them in each share of the
CreateResourceShare and GetResourceShares answers, as the AWS RAM API reference describes
(ResourceShare.tags: a list of {key, value}). It also adds what moto lacks to change them:
- TagResource (POST /tagresource: `resourceShareArn`, `tags`): sets each key's value;
- UntagResource (POST /untagresource: `resourceShareArn`, `tagKeys`): removes those keys.
Both answer `{}`; an unknown or deleted share is UnknownResourceException.
"""

import json

MODELS = "moto.ram.models"


def _patch(models) -> None:
    share = models.ResourceShare
    original_init = share.__init__
    original_describe = share.describe

    def init(self, account_id, region, **kwargs):
        original_init(self, account_id, region, **kwargs)
        self.tags = [
            {"key": t["key"], "value": t.get("value", "")} for t in kwargs.get("tags") or []
        ]

    def describe(self):
        described = original_describe(self)
        described["tags"] = list(self.tags)
        return described

    share.__init__ = init
    share.describe = describe


def find_share(backend, arn):
    """The active share `arn` of the caller's account and region, as AWS finds it."""
    from moto.ram.exceptions import UnknownResourceException

    for share in backend.resource_shares:
        if share.arn == arn and share.status == "ACTIVE":
            return share
    raise UnknownResourceException(f"ResourceShare {arn} could not be found.")


def tag_resource(self) -> str:
    params = self.request_params
    share = find_share(self.ram_backend, params.get("resourceShareArn"))
    new = {t["key"]: t.get("value", "") for t in params.get("tags") or []}
    kept = [t for t in share.tags if t["key"] not in new]
    share.tags = kept + [{"key": k, "value": v} for k, v in new.items()]
    return json.dumps({})


def untag_resource(self) -> str:
    params = self.request_params
    share = find_share(self.ram_backend, params.get("resourceShareArn"))
    gone = set(params.get("tagKeys") or [])
    share.tags = [t for t in share.tags if t["key"] not in gone]
    return json.dumps({})


def add_operations(on_import, operations) -> None:
    """Adds RAM operations moto lacks: `operations` maps each one's URL path segment (as in AWS's
    `POST /tagresource`) to its handler, a method of moto's RAM response class."""

    def patch_responses(module) -> None:
        for handler in operations.values():
            setattr(module.ResourceAccessManagerResponse, handler.__name__, handler)

    def patch_urls(module) -> None:
        dispatch = module.ResourceAccessManagerResponse.dispatch
        for path in operations:
            module.url_paths["{0}/" + path + "$"] = dispatch

    on_import("moto.ram.responses", patch_responses)
    on_import("moto.ram.urls", patch_urls)


def install(on_import) -> None:
    on_import(MODELS, _patch)
    add_operations(on_import, {"tagresource": tag_resource, "untagresource": untag_resource})
