"""The shape checker the stand-in tests rely on finds what AWS would never send (pure: botocore's model)."""

from __future__ import annotations

from support.botocore_shapes import error_problems, problems, service_model

MODEL = service_model("sesv2")
ENTITY = MODEL.operation_model("GetReputationEntity")


def entity(**overrides):
    doc = {
        "ReputationEntityReference": "arn:aws:ses:us-east-1:123456789012:tenant/a/tn-1",
        "ReputationEntityType": "RESOURCE",
        "CustomerManagedStatus": {"Status": "ENABLED", "LastUpdatedTimestamp": 1795851122.5},
        "SendingStatusAggregate": "ENABLED",
        "ReputationImpact": "LOW",
    }
    doc.update(overrides)
    return {"ReputationEntity": doc}


def test_a_fitting_answer_has_no_problems():
    assert problems(entity(), ENTITY.output_shape) == []


def test_unknown_members_wrong_types_enums_and_timestamps_are_found():
    found = problems(
        entity(
            Extra=1,
            ReputationImpact="MEDIUM",
            SendingStatusAggregate=True,
            CustomerManagedStatus={"Status": "ENABLED", "LastUpdatedTimestamp": "2026-12-04T00:00:00Z"},
        ),
        ENTITY.output_shape,
    )
    assert len(found) == 4
    assert any("no member 'Extra'" in p for p in found)
    assert any("'MEDIUM' is not one of" in p for p in found)
    assert any("SendingStatusAggregate" in p and "string" in p for p in found)
    assert any("timestamp" in p for p in found)


def test_lists_maps_lengths_and_required_members():
    tenant = MODEL.operation_model("GetTenant").output_shape
    found = problems({"Tenant": {"TenantName": "", "Tags": [{"Key": "k"}]}}, tenant)
    assert any("length" in p for p in found)
    assert any("required member 'Value'" in p for p in found)
    listing = MODEL.operation_model("ListTenants").input_shape
    assert problems({"Filter": {"TENANT_NAME_CONTAINS": "a"}}, listing) == []
    assert any("not one of" in p for p in problems({"Filter": {"NAME": "a"}}, listing))


def test_errors_must_be_modeled_with_their_status():
    headers = {"x-amzn-ErrorType": "NotFoundException"}
    assert error_problems(ENTITY, 404, headers, {"message": "no"}) == []
    assert error_problems(ENTITY, 400, headers, {"message": "no"}) != []
    assert error_problems(ENTITY, 404, {"x-amzn-ErrorType": "ConflictException"}, {"message": "no"}) != []
    assert error_problems(ENTITY, 404, headers, {}) != []
