"""Organizations' RegisterDelegatedAdministrator accepts `config.amazonaws.com`, as AWS does.

The AWS Config developer guide ("Register a Delegated Administrator") registers an account for
organization aggregators with `register-delegated-administrator --service-principal
config.amazonaws.com`; moto 5.2.5 knows only `config-multiaccountsetup.amazonaws.com` and answers
InvalidInputException ("unrecognized service principal").
"""


def _patch(module) -> None:
    supported = module.FakeDelegatedAdministrator.SUPPORTED_SERVICES
    if "config.amazonaws.com" not in supported:
        supported.append("config.amazonaws.com")


def install(on_import) -> None:
    on_import("moto.organizations.models", _patch)
