"""The simulated SES account itself: scenarios, the proxy's protocols, its control endpoints, its CLI."""

from __future__ import annotations

import json
import math
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support.moto_ses import SCENARIOS
from support.simulated_aws import cbor

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"


def post(
    url: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**40, -1, -25, -(2**33)]},
        {"nested": {"list": [1.5, -0.25, math.inf], "text": "héllo", "bytes": b"\x00\xff"}},
        [None, True, False, "", b"", [], {}],
        cbor.Tagged(1, 1795851122.5),
    ],
)
def test_cbor_round_trip(value):
    assert cbor.loads(cbor.dumps(value)) == value


def test_cbor_decodes_half_floats_and_indefinite_lengths():
    assert cbor.loads(bytes.fromhex("f93c00")) == 1.0
    assert cbor.loads(bytes.fromhex("9f0102ff")) == [1, 2]
    assert cbor.loads(bytes.fromhex("bf616101ff")) == {"a": 1}
    assert cbor.loads(bytes.fromhex("7f61616162ff")) == "ab"
    with pytest.raises(cbor.CBORDecodeError):
        cbor.loads(bytes.fromhex("0102"))


def test_cbor_clients_are_bridged_to_moto(simulated_ses):
    """What the AWS Go SDK v2 (YACE) sends: Smithy RPC v2 CBOR, which moto 5.2.5 cannot read."""
    ses = simulated_ses("healthy")
    now = math.floor(ses.seeded.now / 60) * 60
    request = {
        "MetricDataQueries": [
            {
                "Id": "send",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SES", "MetricName": "Send", "Dimensions": []},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        "StartTime": cbor.Tagged(1, float(now - 600)),
        "EndTime": cbor.Tagged(1, float(now)),
    }
    headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Authorization": SIGV4}
    status, response_headers, body = post(
        ses.endpoint_url + CBOR_PATH + "GetMetricData", cbor.dumps(request), headers
    )
    assert status == 200
    assert response_headers["smithy-protocol"] == "rpc-v2-cbor"
    result = cbor.loads(body)["MetricDataResults"][0]
    assert result["Id"] == "send"
    assert result["Values"] == [30.0] * 10
    assert all(isinstance(t, cbor.Tagged) and t.tag == 1 for t in result["Timestamps"])
    recorded = ses.proxy.requests("GetMetricData")[-1]
    assert (recorded.protocol, recorded.service, recorded.metrics_requested) == ("cbor", "monitoring", 1)

    ses.proxy.inject("GetMetricData", "throttle", times=1)
    status, response_headers, body = post(
        ses.endpoint_url + CBOR_PATH + "GetMetricData", cbor.dumps(request), headers
    )
    assert status == 400
    assert response_headers["x-amzn-query-error"] == "Throttling;Sender"
    assert cbor.loads(body)["__type"].endswith("#Throttling")


def test_query_protocol_faults_answer_in_xml(simulated_ses):
    ses = simulated_ses("healthy")
    ses.proxy.inject("GetMetricStatistics", "access_denied", times=1)
    form = b"Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FSES&MetricName=Send"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": SIGV4}
    status, _, body = post(ses.endpoint_url + "/", form, headers)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    form = (
        b"Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=a"
        b"&MetricDataQueries.member.2.Id=b&MetricDataQueries.member.2.Expression=a"
    )
    post(ses.endpoint_url + "/", form, headers)
    assert ses.proxy.requests("GetMetricData")[-1].metrics_requested == 2


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios(simulated_ses, name):
    ses = simulated_ses(name, configuration_sets=["marketing"])
    seeded = ses.seeded
    scenario = SCENARIOS[name]
    bounce = seeded.series("Reputation.BounceRate")
    complaint = seeded.series("Reputation.ComplaintRate")
    assert bounce
    if name == "clean":  # never a complaint: like AWS, no complaint rate at all
        assert complaint == []
        assert seeded.series("Complaint") == []
        assert seeded.series("Send")
    else:
        assert complaint
    minutes = {int(t // 60) for t, _ in bounce}
    if name == "seed":
        assert all(m % 20 < 5 for m in minutes)  # bursts every 20 minutes
        assert 0.1432 <= bounce[-1][1] < 0.16
    elif name == "under-review":
        assert all(m % 10 < 3 for m in minutes)
        assert {v for _, v in bounce} == {0.062}
    else:
        assert len(minutes) == len(range(min(minutes), max(minutes) + 1))  # steady sending
    if name == "complaint-spike":
        assert complaint[0][1] == pytest.approx(0.0003)
        assert complaint[-1][1] == pytest.approx(0.006, rel=0.05)
    if name in ("healthy", "clean"):
        assert {v for _, v in bounce} == {0.008}
    # The configuration set gets the scenario at half the rate (set number 0: scale 0.5), or its own.
    own = scenario.set_rates.get("marketing", (bounce[-1][1] * 0.5, 0.0))[0]
    assert seeded.series("Reputation.BounceRate", "marketing")[-1][1] == pytest.approx(own)
    account = ses.client("sesv2").get_account()
    assert account["EnforcementStatus"] == scenario.enforcement_status
    assert account["SendQuota"]["SentLast24Hours"] == seeded.sent_last_24_hours() > 0


def test_control_endpoints(simulated_ses):
    ses = simulated_ses("healthy")
    sesv2 = ses.client("sesv2", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    json_headers = {"Content-Type": "application/json"}
    fault = json.dumps({"operation": "GetAccount", "kind": "throttle", "times": 1}).encode()
    assert post(ses.endpoint_url + "/__sesmonitor/faults", fault, json_headers)[0] == 200
    with pytest.raises(ClientError) as caught:
        sesv2.get_account()
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert sesv2.get_account()["EnforcementStatus"] == "HEALTHY"  # times=1: used up

    forever = json.dumps({"operation": "*", "kind": "server_error"}).encode()
    post(ses.endpoint_url + "/__sesmonitor/faults", forever, json_headers)
    with pytest.raises(ClientError):
        sesv2.get_account()
    assert post(ses.endpoint_url + "/__sesmonitor/faults", b"", {}, method="DELETE")[0] == 200
    assert sesv2.get_account()["EnforcementStatus"] == "HEALTHY"

    status, _, body = post(ses.endpoint_url + "/__sesmonitor/requests", b"", {}, method="GET")
    assert status == 200
    assert json.loads(body)["counts"] == {"GetAccount": 4}
    assert post(ses.endpoint_url + "/__sesmonitor/account", b'{"Nope": 1}', json_headers, "PUT")[0] == 400
    assert post(ses.endpoint_url + "/__sesmonitor/reset", b"", {})[0] == 200
    assert ses.proxy.count() == 0


def test_runs_on_its_own_for_the_demo():
    script = Path(__file__).resolve().parents[1] / "support" / "moto_ses.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--scenario", "under-review"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        client = boto3.client("sesv2", region_name="us-east-1", endpoint_url=info["endpoint_url"])
        assert client.get_account()["EnforcementStatus"] == "PROBATION"
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "us-east-1.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("*.us-east-1.amazonaws.com")]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_proxy_mode_reaches_moto_without_an_endpoint_url(simulated_ses, tmp_path):
    """How the benchmark reaches cloudwatch_exporter's Java SDK: CONNECT, TLS ended at the proxy."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    ses = simulated_ses("healthy", tls=context)
    client = boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        verify=str(cert),
        config=Config(proxies={"https": ses.endpoint_url}, retries={"total_max_attempts": 1}),
    )
    metrics = client.list_metrics(Namespace="AWS/SES", MetricName="Send")["Metrics"]
    assert metrics == [{"Namespace": "AWS/SES", "MetricName": "Send", "Dimensions": []}]
    recorded = ses.proxy.requests("ListMetrics")
    assert [(r.service, r.protocol, r.status) for r in recorded] == [("monitoring", "json", 200)]


def test_moto_lacks_what_the_sesv2_stand_ins_answer(simulated_ses):
    """simulated_aws.sesv2's docstring, checked against moto itself: a moto that gains these calls
    fails here, and the stand-in can go."""
    ses = simulated_ses("healthy", configuration_sets=["marketing"])
    direct = ses.client("sesv2", direct=True)
    with pytest.raises(ClientError):  # GetAccount: not implemented
        direct.get_account()
    with pytest.raises(ClientError) as missing:  # PutConfigurationSetSendingOptions: 404
        direct.put_configuration_set_sending_options(ConfigurationSetName="marketing", SendingEnabled=False)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # GetConfigurationSet is moto's own, ReputationOptions right, SendingOptions wrong.
    got = direct.get_configuration_set(ConfigurationSetName="marketing")
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert got.get("SendingOptions", {}).get("SendingEnabled") is not True
    # Through the proxy all three answer as SES does.
    proxied = ses.client("sesv2")
    assert proxied.get_account()["EnforcementStatus"] == "HEALTHY"
    proxied.put_configuration_set_sending_options(ConfigurationSetName="marketing", SendingEnabled=False)
    got = proxied.get_configuration_set(ConfigurationSetName="marketing")
    assert got["SendingOptions"] == {"SendingEnabled": False}
