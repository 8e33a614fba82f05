"""The ARM client against the emulated ARM: paging, retries with Retry-After and backoff, both error shapes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from akslogin.arm import ArmClient, ArmError
from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from akslogin.emulator.world import world_from_dict
from akslogin.errors import NetworkError
from akslogin.http import HttpClient
from akslogin.log import Log
from akslogin.retry import RetryPolicy
from support.armworld import BREAKGLASS, DEPLOYER, Principal, single_spec, sub_id


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("armclient-emu")) as e:
        yield e


@pytest.fixture(autouse=True)
def _reset(emu: Emulator) -> Iterator[None]:
    yield
    emu.faults.clear()
    emu.arm.page_size = 20
    emu.request_log.reset()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(emu: Emulator, who: Principal = DEPLOYER, **kwargs: Any) -> tuple[ArmClient, Sleeps, io.StringIO]:
    tok = emu.issuer.access_token(tenant_id=single_spec()["tenants"][0]["id"], audience="https://management.azure.com/",
                                  lifetime=3600, subject_oid=who.object_id, app_id=who.client_id, app_only=True)
    sleeps, log = Sleeps(), io.StringIO()
    # As get-credentials builds it: the ARM client retries itself, so no built-in retries or run deadline.
    http = HttpClient(10, [str(emu.ca_path)], {}, retry=RetryPolicy(attempts=1), overall_deadline=False)
    return ArmClient(http, emu.server_url("arm"), tok, Log(1, log), sleep=sleeps, jitter=lambda: 1.0,
                     **kwargs), sleeps, log


def test_paging_follows_next_link(emu: Emulator) -> None:
    emu.arm.page_size = 1
    arm, _, _ = client(emu)
    assert [s.id for s in arm.list_subscriptions()] == [sub_id(1), sub_id(2)]
    clusters = arm.list_clusters(sub_id(1))
    assert sorted(c.name for c in clusters) == ["aks-basic", "aks-nolocal", "aks-private", "aks1"]
    private = next(c for c in clusters if c.name == "aks-private")
    assert private.resource_group == "rg-apps" and private.subscription_id == sub_id(1) and private.aad
    assert private.private_fqdn and not next(c for c in clusters if c.name == "aks-basic").aad
    assert [c.name for c in arm.list_clusters(sub_id(1), "rg-secure")] == ["aks-nolocal"]
    assert arm.get_cluster(sub_id(1), "rg-secure", "aks-nolocal").disable_local_accounts


def test_throttling_honours_retry_after_then_backs_off(emu: Emulator) -> None:
    emu.faults.add(Fault("arm", "listClusterUserCredential", "status", status=429, retry_after=7))
    emu.faults.add(Fault("arm", "listClusterUserCredential", "status", status=503))
    emu.faults.add(Fault("arm", "listClusterUserCredential", "reset"))
    arm, sleeps, log = client(emu)
    creds = arm.credentials(sub_id(1), "rg-apps", "aks1")
    assert creds[0].name == "clusterUser" and "kubelogin" in creds[0].text
    assert sleeps == [7.0, 1.0, 2.0]  # Retry-After, then 0.5 s·2^n backoff (jitter pinned at its maximum)
    assert "HTTP 429" in log.getvalue() and "reset" in log.getvalue()


def test_retries_are_bounded(emu: Emulator) -> None:
    emu.faults.add(Fault("arm", "/subscriptions$", "status", status=503, times=10))
    arm, sleeps, _ = client(emu, max_attempts=3)
    with pytest.raises(ArmError) as err:
        arm.list_subscriptions()
    assert err.value.status == 503 and len(sleeps) == 2
    assert "usually temporary" in err.value.render()
    emu.faults.clear()
    emu.faults.add(Fault("arm", "/subscriptions$", "status", status=429, retry_after=600, times=1))
    arm, sleeps, _ = client(emu, max_retry_after=5)
    arm.list_subscriptions()
    assert sleeps == [5.0]  # an absurd Retry-After is capped


def test_errors_are_read_in_both_shapes(emu: Emulator) -> None:
    arm, sleeps, _ = client(emu, BREAKGLASS)
    with pytest.raises(ArmError) as flat:  # the AKS resource provider's flat body
        arm.credentials(sub_id(1), "rg-secure", "aks-nolocal", "admin")
    assert flat.value.status == 400 and flat.value.code == "BadRequest"
    assert "local accounts disabled" in flat.value.message
    with pytest.raises(ArmError) as envelope:  # ARM's envelope
        arm.credentials(sub_id(1), "rg-apps", "aks-private", "user")
    assert envelope.value.code == "AuthorizationFailed" and envelope.value.status == 403
    assert "Azure Kubernetes Service Cluster User Role" in (envelope.value.hint or "")
    with pytest.raises(ArmError) as missing:
        arm.get_cluster(sub_id(1), "rg-apps", "nope")
    assert missing.value.code == "ResourceNotFound" and "--resource-group" in (missing.value.hint or "")
    assert sleeps == []  # none of these is retried


def test_html_and_non_json_answers_are_explained(emu: Emulator) -> None:
    emu.faults.add(Fault("arm", "/subscriptions$", "not_json"))
    arm, _, _ = client(emu)
    with pytest.raises(ArmError, match="not a JSON object"):
        arm.list_subscriptions()


def test_refused_connection_is_not_retried(emu: Emulator) -> None:
    sleeps = Sleeps()
    arm = ArmClient(HttpClient(5, [str(emu.ca_path)], {}), "https://127.0.0.1:9/", "t", Log(0), sleep=sleeps)
    with pytest.raises(NetworkError, match="connection refused"):
        arm.list_subscriptions()
    assert sleeps == []


def test_next_link_to_another_host_is_refused() -> None:
    """The token must never follow a nextLink off the ARM endpoint (the emulator never sends one: stubbed)."""

    class Stub(HttpClient):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
            response = requests.Response()
            response.status_code = 200
            response._content = b'{"value": [], "nextLink": "https://evil.example/subscriptions?page=2"}'
            return response

    arm = ArmClient(Stub(5, [], {}), "https://management.azure.com/", "t", Log(0))
    with pytest.raises(ArmError, match="points at another host"):
        arm.list_subscriptions()


def test_throttling_is_waited_out_past_the_retries_other_failures_get(emu: Emulator) -> None:
    """An estate's import meets 429 often: each is waited out (within --timeout), not counted as a failure."""
    emu.faults.add(Fault("arm", "listClusterUserCredential", "status", status=429, retry_after=1, times=8))
    arm, sleeps, _ = client(emu)
    assert arm.credentials(sub_id(1), "rg-apps", "aks1")[0].name == "clusterUser"
    assert sleeps == [1.0] * 8  # more than the 5 tries a 5xx or a reset gets
