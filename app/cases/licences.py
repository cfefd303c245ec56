"""Electronic licences (电子证照) standing for materials: the applicant's licences, chosen instead of an upload."""

from __future__ import annotations

from datetime import date

from app.cases.errors import (
    CaseNotFound,
    LicenceExpired,
    LicenceNotAccepted,
    LicenceNotFound,
    MaterialFileNotFound,
    UnknownMaterial,
)
from app.cases.models import Case, CaseLicence
from app.core.auth import Principal
from app.core.crypto import FieldCipher
from app.core.timeutil import now as clock_now
from app.core.timeutil import to_iso
from app.core.workdays import local_date
from app.identity import service as identity
from app.identity.id_number import mask_id_number
from app.platforms.licences import Licence, LicenceService, licence_type_for

LICENCE_NO = "licence_no"


def mask_licence_no(licence_type: str, number: str) -> str:
    """An ID card's number masked as ID numbers are; other licence numbers keep their first and last four."""
    if licence_type == "id_card":
        return mask_id_number(number)
    return number if len(number) <= 8 else number[:4] + "*" * (len(number) - 8) + number[-4:]


def is_valid(licence: Licence, today: date) -> bool:
    """Within its validity today (a long-term licence always is)."""
    return licence.valid_until is None or date.fromisoformat(licence.valid_until) >= today


def _today() -> date:
    return local_date(clock_now())


def licence_view(licence: Licence, today: date) -> dict:
    return {
        "licence_type": licence.licence_type,
        "name": licence.name,
        "licence_no_masked": mask_licence_no(licence.licence_type, licence.licence_no),
        "issuer": licence.issuer,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "valid": is_valid(licence, today),
    }


def attached_view(row: CaseLicence) -> dict:
    """A licence chosen for a material, as the citizen and the clerk see it (issuer and validity; number masked)."""
    return {
        "id": row.id,
        "material_id": row.material_id,
        "licence_type": row.licence_type,
        "name": row.name,
        "licence_no_masked": row.licence_no_masked,
        "issuer": row.issuer,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "attached_at": to_iso(row.attached_at),
    }


async def holder_licences(citizen_id: int, *, cipher: FieldCipher, licences: LicenceService) -> list[Licence]:
    """The licences the licence service holds for this real-name citizen (403 without a verified identity)."""
    holder = await identity.own_details(citizen_id, cipher=cipher)
    return await licences.licences_of(id_number=holder["id_number"], name=holder["name"])


async def my_licences(citizen_id: int, *, cipher: FieldCipher, licences: LicenceService) -> list[dict]:
    """The citizen's own licences, numbers masked, with whether each is valid today."""
    today = _today()
    return [licence_view(item, today) for item in await holder_licences(citizen_id, cipher=cipher, licences=licences)]


async def attach(
    principal: Principal,
    case: Case,
    guide: dict,
    *,
    material_id: int,
    cipher: FieldCipher,
    licences: LicenceService,
) -> dict:
    """Choose the applicant's licence for a material marked e_licence; it counts as that material's upload."""
    if case.applicant_id is None:
        raise CaseNotFound()
    material = next((m for m in guide["materials"] if m["id"] == material_id), None)
    if material is None:
        raise UnknownMaterial(details={"fields": [{"field": "material_id", "message": "该事项没有这项材料"}]})
    licence_type = licence_type_for(material["name"]) if material.get("e_licence") else None
    if licence_type is None:
        raise LicenceNotAccepted(details={"material_id": material_id})
    # The applicant's licence, even when a proxy files: the material is the applicant's.
    held = [
        item
        for item in await holder_licences(case.applicant_id, cipher=cipher, licences=licences)
        if item.licence_type == licence_type
    ]
    if not held:
        raise LicenceNotFound(details={"licence_type": licence_type})
    today = _today()
    valid = [item for item in held if is_valid(item, today)]
    if not valid:
        raise LicenceExpired(details={"licence_type": licence_type, "valid_until": held[0].valid_until})
    chosen = valid[0]
    await CaseLicence.filter(case_id=case.id, material_id=material_id, removed_at__isnull=True).update(
        removed_at=clock_now()
    )
    row = await CaseLicence.create(
        case_id=case.id,
        material_id=material_id,
        licence_type=chosen.licence_type,
        name=chosen.name,
        licence_no_encrypted=cipher.encrypt(chosen.licence_no, context=LICENCE_NO),
        licence_no_masked=mask_licence_no(chosen.licence_type, chosen.licence_no),
        issuer=chosen.issuer,
        valid_from=chosen.valid_from,
        valid_until=chosen.valid_until,
        attached_by=principal.actor,
    )
    return attached_view(row)


async def detach(case: Case, licence_id: int) -> None:
    """Take back a chosen licence (the case must still be editable: the caller checks)."""
    removed = await CaseLicence.filter(id=licence_id, case_id=case.id, removed_at__isnull=True).update(
        removed_at=clock_now()
    )
    if not removed:
        raise MaterialFileNotFound("电子证照不存在")


async def live_licences(case_id: int) -> list[CaseLicence]:
    """The licences standing for materials of the case now."""
    return list(await CaseLicence.filter(case_id=case_id, removed_at__isnull=True).order_by("id"))
