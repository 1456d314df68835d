"""Tags on RAM resource shares.

moto 5.2.5 drops the `tags` of CreateResourceShare and answers GetResourceShares without them, so a
share cannot be recognised by its tags (landfall's `landfall:address`) after state is lost. This
extension keeps the tags given to CreateResourceShare and returns them in each share of the
CreateResourceShare and GetResourceShares answers, as the AWS RAM API reference describes
(ResourceShare.tags: a list of {key, value}). TagResource and UntagResource are not added.
"""

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


def install(on_import) -> None:
    on_import(MODELS, _patch)
