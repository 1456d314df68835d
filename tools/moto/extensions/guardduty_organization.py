"""GuardDuty's organization configuration and the calls around it that moto 5.2.5 lacks.

Written from the Amazon GuardDuty API reference:
- UpdateOrganizationConfiguration (POST /detector/{detectorId}/admin) and
  DescribeOrganizationConfiguration (GET /detector/{detectorId}/admin): whether and which member
  accounts GuardDuty enables by itself (`autoEnableOrganizationMembers` NEW/ALL/NONE, the deprecated
  `autoEnable`, and per-feature `autoEnable`). Only the delegated administrator's own detector may
  call them; any other caller gets BadRequestException, as AWS answers.
- DisableOrganizationAdminAccount (POST /admin/disable), from the management account.
- TagResource / UntagResource / ListTagsForResource (/tags/{resourceArn}) for detectors.
- CreateDetector refuses a second detector in one account and region (BadRequestException), as AWS
  does; moto made a second one.
- EnableOrganizationAdminAccount refuses while an account is already the delegated administrator
  (BadRequestException): an organization has one GuardDuty administrator per region, so another
  must wait until DisableOrganizationAdminAccount; moto listed both.
"""

import json
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError

_CONFIGS: dict[tuple[str, str, str], dict] = {}
"""(account, region, detector id) -> the organization configuration set through that detector."""


class _BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message)


def _backends():
    from moto.guardduty.models import guardduty_backends

    return guardduty_backends


def _is_delegated_admin(account: str, region: str) -> bool:
    """Whether some account (the management account) made `account` GuardDuty's administrator."""
    backends = _backends()
    for account_id in list(backends.keys()):
        backend = backends[account_id].get(region)
        if backend is not None and account in backend.admin_account_ids:
            return True
    return False


def _admin_detector(response) -> tuple[str, str, str]:
    detector_id = response.path.split("/")[-2]
    account, region = response.current_account, response.region
    response.guardduty_backend.get_detector(detector_id)
    if not _is_delegated_admin(account, region):
        raise _BadRequest(
            "The request is rejected because the current account is not the delegated "
            "administrator account for GuardDuty in this organization."
        )
    return account, region, detector_id


def _default_config() -> dict:
    return {"autoEnable": False, "autoEnableOrganizationMembers": "NONE", "features": []}


def update_organization_configuration(self) -> str:
    key = _admin_detector(self)
    body = json.loads(self.body or "{}")
    members = body.get("autoEnableOrganizationMembers")
    if members is None and "autoEnable" in body:
        members = "NEW" if body["autoEnable"] else "NONE"
    if members is not None and members not in ("NEW", "ALL", "NONE"):
        raise _BadRequest(f"The request is rejected because autoEnableOrganizationMembers {members} is not valid.")
    config = _CONFIGS.setdefault(key, _default_config())
    if members is not None:
        config["autoEnableOrganizationMembers"] = members
        config["autoEnable"] = members != "NONE"
    features = {f["name"]: f for f in config["features"]}
    for feature in body.get("features") or []:
        features[feature["name"]] = {
            "name": feature["name"],
            "autoEnable": feature.get("autoEnable", "NONE"),
            "additionalConfiguration": feature.get("additionalConfiguration", []),
        }
    config["features"] = list(features.values())
    return "{}"


def describe_organization_configuration(self) -> str:
    key = _admin_detector(self)
    config = _CONFIGS.get(key, _default_config())
    return json.dumps({**config, "memberAccountLimitReached": False})


def disable_organization_admin_account(self) -> str:
    account = json.loads(self.body or "{}").get("adminAccountId")
    admins = self.guardduty_backend.admin_account_ids
    if account not in admins:
        raise _BadRequest(
            f"The request is rejected because the account {account} is not the delegated administrator."
        )
    admins.remove(account)
    return "{}"


def _tagged_detector(response):
    arn = unquote(response.path.split("/tags/", 1)[1])
    detector_id = arn.rsplit("/", 1)[-1]
    return response.guardduty_backend.get_detector(detector_id)


def tag_resource(self) -> str:
    detector = _tagged_detector(self)
    detector.tags.update(json.loads(self.body or "{}").get("tags") or {})
    return "{}"


def untag_resource(self) -> str:
    detector = _tagged_detector(self)
    for key in self.querystring.get("tagKeys", []):
        detector.tags.pop(key, None)
    return "{}"


def list_tags_for_resource(self) -> str:
    return json.dumps({"tags": _tagged_detector(self).tags})


def _patch_responses(module) -> None:
    cls = module.GuardDutyResponse
    for handler in (
        update_organization_configuration,
        describe_organization_configuration,
        disable_organization_admin_account,
        tag_resource,
        untag_resource,
        list_tags_for_resource,
    ):
        setattr(cls, handler.__name__, handler)


def _patch_urls(module) -> None:
    dispatch = module.GuardDutyResponse.dispatch
    module.url_paths["{0}/detector/(?P<detector_id>[^/]+)/admin$"] = dispatch
    module.url_paths["{0}/admin/disable$"] = dispatch
    module.url_paths["{0}/tags/(?P<resource_arn>.+)$"] = dispatch


def _patch_models(module) -> None:
    create = module.GuardDutyBackend.create_detector

    def create_detector(self, *args, **kwargs):
        if self.detectors:
            raise _BadRequest(
                "The request is rejected because a detector already exists for the current account."
            )
        return create(self, *args, **kwargs)

    module.GuardDutyBackend.create_detector = create_detector

    def enable_organization_admin_account(self, admin_account_id: str) -> None:
        if self.admin_account_ids:
            raise _BadRequest(
                "The request failed because the account is already enabled as the GuardDuty "
                "delegated administrator for the organization."
            )
        self.admin_account_ids.append(admin_account_id)

    module.GuardDutyBackend.enable_organization_admin_account = enable_organization_admin_account


def install(on_import) -> None:
    on_import("moto.guardduty.models", _patch_models)
    on_import("moto.guardduty.responses", _patch_responses)
    on_import("moto.guardduty.urls", _patch_urls)
