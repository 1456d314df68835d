"""AWS managed policies as one catalogue for every account (IAM; no AWS operation added or changed).

In AWS the managed policies (`arn:aws:iam::aws:policy/...`) are one catalogue every account attaches
from. moto 5.2.5 (with MOTO_IAM_LOAD_MANAGED_POLICIES) builds each account's IAM backend by parsing
its whole 6 MB catalogue again and making an object of each of its ~1,300 policies: about 31 MB and
a second of the emulator's time per account, so an organization of 1,000 accounts needs 30+ GB.

Here the catalogue is parsed once, and an account's object of an AWS managed policy is made when the
account first looks it up (GetPolicy, AttachRolePolicy, ...), with the shared document; listings that
show every policy (ListPolicies, GetAccountAuthorizationDetails asking for AWS managed policies) make
the rest first. Each account keeps its own objects (their attachment counts are per account, as in
AWS), so every IAM operation answers as before. GetAccountAuthorizationDetails without
`AWSManagedPolicy` in its filter, AttachRolePolicy/AttachGroupPolicy/AttachUserPolicy and their
Detach forms look the one policy up instead of making the account's whole catalogue.
"""

import json

_catalogue = None


def _shared(models):
    """ARN suffix (path + name) -> (name, default version, path, document, created, updated)."""
    global _catalogue
    if _catalogue is None:
        from datetime import datetime

        _catalogue = {
            f"{d.get('Path')}{name}": (
                name, d.get("DefaultVersionId"), d.get("Path"), json.dumps(d.get("Document")),
                datetime.fromisoformat(d["CreateDate"]), datetime.fromisoformat(d["UpdateDate"]))
            for name, d in json.loads(models.aws_managed_policies_data).items()
        }
    return _catalogue


def _policies_class(models):
    class Policies(dict):
        """An account's managed policies: its own, and AWS's, each made when first looked up."""

        def __init__(self, backend):
            super().__init__()
            self._backend = backend
            self._prefix = f"arn:{models.get_partition(backend.region_name)}:iam::aws:policy"
            self._complete = False

        def _entry(self, arn):
            if not isinstance(arn, str) or not arn.startswith(self._prefix):
                return None
            return _shared(models).get(arn[len(self._prefix):])

        def _make(self, entry):
            name, version, path, document, created, updated = entry
            policy = models.AWSManagedPolicy(
                name, account_id=self._backend.account_id, region=self._backend.region_name,
                default_version_id=version, path=path, document=document, create_date=created,
                update_date=updated)
            dict.__setitem__(self, policy.arn, policy)
            return policy

        def __missing__(self, arn):
            entry = self._entry(arn)
            if entry is None:
                raise KeyError(arn)
            return self._make(entry)

        def __contains__(self, arn):
            return dict.__contains__(self, arn) or self._entry(arn) is not None

        def get(self, arn, default=None):
            try:
                return self[arn]
            except KeyError:
                return default

        def own(self):
            """The policies made so far (every customer managed one among them)."""
            return dict.values(self)

        def complete(self):
            if not self._complete:
                self._complete = True
                for suffix, entry in _shared(models).items():
                    if not dict.__contains__(self, self._prefix + suffix):
                        self._make(entry)
            return self

        def values(self):
            return dict.values(self.complete())

        def keys(self):
            return dict.keys(self.complete())

        def items(self):
            return dict.items(self.complete())

        def __iter__(self):
            return dict.__iter__(self.complete())

        def __len__(self):
            return dict.__len__(self.complete())

    return Policies


def _lookup(models, backend, arn, message):
    try:
        return backend.managed_policies[arn]
    except KeyError:
        raise models.NotFoundException(message) from None


def _attach(models, getter, not_found, once):
    def attach(self, policy_arn, name):
        policy = _lookup(models, self, policy_arn, not_found.format(policy_arn))
        entity = getter(self, name)
        if once and policy.arn in entity.managed_policies:
            return
        policy.attach_to(entity)

    return attach


def _detach(models, getter):
    def detach(self, policy_arn, name):
        message = f"Policy {policy_arn} was not found."
        policy = _lookup(models, self, policy_arn, message)
        entity = getter(self, name)
        if policy.arn not in entity.managed_policies:
            raise models.NotFoundException(message)
        policy.detach_from(entity)

    return detach


def _patch(models):
    backend = models.IAMBackend
    policies = _policies_class(models)
    details = backend.get_account_authorization_details

    def init_managed_policies(self):
        if not models.load_iam_aws_managed_policies():
            return {}
        return policies(self)

    def account_authorization_details(self, policy_filter):
        if not policy_filter or "AWSManagedPolicy" in policy_filter \
                or not isinstance(self.managed_policies, policies):
            self.aws_managed_policies = [
                p for p in self.managed_policies.values() if isinstance(p, models.AWSManagedPolicy)]
            return details(self, policy_filter)
        local = [p for p in self.managed_policies.own() if not isinstance(p, models.AWSManagedPolicy)]
        return {
            "instance_profiles": self.instance_profiles.values(),
            "roles": self.roles.values() if "Role" in policy_filter else [],
            "groups": self.groups.values() if "Group" in policy_filter else [],
            "users": self.users.values() if "User" in policy_filter else [],
            "managed_policies": local if "LocalManagedPolicy" in policy_filter else [],
        }

    absent = "Policy {} does not exist or is not attachable."
    backend._init_aws_policies = lambda self: []
    backend._init_managed_policies = init_managed_policies
    backend.get_account_authorization_details = account_authorization_details
    backend.attach_role_policy = _attach(models, backend.get_role, absent, once=False)
    backend.attach_user_policy = _attach(models, backend.get_user, absent, once=False)
    backend.attach_group_policy = _attach(models, backend.get_group, "Policy {} was not found.", once=True)
    backend.detach_role_policy = _detach(models, backend.get_role)
    backend.detach_user_policy = _detach(models, backend.get_user)
    backend.detach_group_policy = _detach(models, backend.get_group)


def install(on_import):
    on_import("moto.iam.models", _patch)
