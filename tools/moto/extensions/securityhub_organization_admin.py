"""Security Hub's ListOrganizationAdminAccounts and DisableOrganizationAdminAccount, which moto 5.2.5
lacks (it has EnableOrganizationAdminAccount).

Written from the AWS Security Hub API reference:
- ListOrganizationAdminAccounts (GET /organization/admin): the organization's administrator
  account as `AdminAccounts: [{AccountId, Status: ENABLED}]`, from the management account.
- DisableOrganizationAdminAccount (POST /organization/admin/disable, `AdminAccountId`): from the
  management account; an account that is not the administrator is InvalidInputException.
Both answer AccessDeniedException to any other caller than the management account, as AWS does.
"""

import json

from moto.securityhub.exceptions import SecurityHubClientError as RESTError


def _org_config(response) -> dict:
    backend = response.securityhub_backend
    org = backend.org_backend.describe_organization()["Organization"]
    if backend.account_id != org["MasterAccountId"]:
        raise RESTError(
            "AccessDeniedException",
            "The request was rejected because you don't have sufficient permissions to perform "
            "this operation. Only the organization's management account may call it.",
        )
    return backend._get_org_config()


def list_organization_admin_accounts(self) -> str:
    admin = _org_config(self)["admin_account_id"]
    accounts = [{"AccountId": admin, "Status": "ENABLED"}] if admin else []
    return json.dumps({"AdminAccounts": accounts})


def disable_organization_admin_account(self) -> str:
    config = _org_config(self)
    account = json.loads(self.body or "{}").get("AdminAccountId")
    if config["admin_account_id"] != account:
        raise RESTError(
            "InvalidInputException",
            f"The request was rejected because the account {account} is not the administrator account.",
        )
    config["admin_account_id"] = None
    return json.dumps({})


def _patch_responses(module) -> None:
    cls = module.SecurityHubResponse
    cls.list_organization_admin_accounts = list_organization_admin_accounts
    cls.disable_organization_admin_account = disable_organization_admin_account


def _patch_urls(module) -> None:
    dispatch = module.SecurityHubResponse.dispatch
    module.url_paths["{0}/organization/admin$"] = dispatch
    module.url_paths["{0}/organization/admin/disable$"] = dispatch


def install(on_import) -> None:
    on_import("moto.securityhub.responses", _patch_responses)
    on_import("moto.securityhub.urls", _patch_urls)
