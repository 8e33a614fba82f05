"""What the tiers of test_ci_recipes.py share: tests/{e2e,emulated}/test_ci_recipes.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict

TENANT = "3e3e3e3e-1111-4222-8333-444444444444"


SUB = "4f4f4f4f-1111-4222-8333-444444444444"


GITLAB_APP = "5a5a5a5a-1111-4222-8333-444444444444"


JENKINS_APP = "6b6b6b6b-1111-4222-8333-444444444444"


JENKINS_SECRET = "jenkins-secret-Jj1~x"


SUBJECT = "project_path:contoso/shop:ref_type:branch:ref:main"


WORLD: dict[str, Any] = {
    "tenants": [{"id": TENANT, "domains": ["shop.example"], "apps": [
        {"name": "gitlab-shop", "client_id": GITLAB_APP, "object_id": "5a5a5a5a-0000-4000-8000-000000000001",
         "federated_credentials": [{"issuer": "gitlab", "subject": SUBJECT}]},
        {"name": "jenkins-shop", "client_id": JENKINS_APP, "object_id": "6b6b6b6b-0000-4000-8000-000000000001",
         "secrets": [JENKINS_SECRET]},
    ]}],
    "clusters": [{"name": "aks-prod", "resource_group": "rg-prod", "subscription": SUB,
                  "namespaces": ["default", "shop"], "pods": {"shop": ["shop-0"]},
                  "rbac": {"bindings": [{"name": "ci-edit", "role": "edit", "namespace": "shop",
                                         "subjects": [{"app": "gitlab-shop"}, {"app": "jenkins-shop"}]}]}}],
    "arm_role_assignments": [{"principal": {"app": name}, "role": "cluster-user", "scope": {"cluster": "aks-prod"}}
                             for name in ("gitlab-shop", "jenkins-shop")],
}


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(WORLD), tmp_path_factory.mktemp("ci-recipes")) as e:
        yield e


def _emulator_flags(emu: Emulator) -> list[str]:
    return ["--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path),
            "--arm-endpoint", emu.server_url("arm")]
