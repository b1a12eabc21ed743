"""`phoneconfiguration`: a phone's programmable keys in the NetSapiens shape.

A phone without a configuration gets automatic keys (a line key per account, then BLF keys for
colleagues, phones.provisioning). Creating a configuration replaces them with its `buttons`:
`phoneconfiguration-button-order` is the line key number, `-feature` what it does (`line`,
`blf`, `speed-dial`, `park`, `none`), `-target` the account (line), extension or number,
`-label` the text on the key. Deleting it returns the phone to automatic keys. `sidecars`,
`extra` and `directory` are kept and shown back; the files do not use them yet.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.domains import service as domains
from celito.errors import Conflict, NotFound, Unprocessable
from celito.kit.schema import ApiDatetime, ApiModel, ApiOut
from celito.phones import service as phones
from celito.phones.models import Phone
from celito.yealink import catalog, render

FEATURES = {
    "line": "line",
    "blf": "blf",
    "speed-dial": "speed-dial",
    "speeddial": "speed-dial",
    "speed_dial": "speed-dial",
    "park": "park",
    "none": "none",
}


class Button(ApiModel):
    phoneconfiguration_button_order: int = Field(ge=1, le=100)
    phoneconfiguration_button_type: str = Field("linekey", max_length=32)
    phoneconfiguration_button_feature: str = Field(max_length=32)
    phoneconfiguration_button_target: int | str = ""
    phoneconfiguration_button_label: str = Field("", max_length=64)
    phoneconfiguration_button_locked: int | None = None
    phoneconfiguration_extra: Any = None


class ConfigurationFields(ApiModel):
    phoneconfiguration_name: str | None = Field(None, max_length=128)
    phoneconfiguration_description: str | None = Field(None, max_length=512)
    phoneconfiguration_brand: str | None = Field(None, max_length=32)
    phoneconfiguration_model: str | None = Field(None, max_length=64)
    phoneconfiguration_domain: str | None = Field(None, max_length=128)
    phoneconfiguration_sidecars: list[dict[str, Any]] | None = None
    phoneconfiguration_extra: dict[str, Any] | None = None
    phoneconfiguration_directory: dict[str, Any] | None = None
    phoneconfiguration_buttons: list[Button] | None = None


class ConfigurationCreate(ConfigurationFields):
    phoneconfiguration_mac_address: str = Field(max_length=32)


class ConfigurationOut(ApiOut):
    phoneconfiguration_name: str
    phoneconfiguration_mac_address: str
    phoneconfiguration_description: str
    phoneconfiguration_brand: str
    phoneconfiguration_model: str
    phoneconfiguration_domain: str
    phoneconfiguration_sidecars: list[dict[str, Any]]
    phoneconfiguration_extra: dict[str, Any]
    phoneconfiguration_directory: dict[str, Any]
    phoneconfiguration_buttons: list[dict[str, Any]]
    last_modified_datetime: ApiDatetime = None


def keys_of(buttons: list[dict[str, Any]] | None) -> tuple[render.Key, ...] | None:
    """The keys a phone's configured `buttons` make, or None when it has automatic keys."""
    if buttons is None:
        return None
    found = []
    for b in buttons:
        feature = b["phoneconfiguration-button-feature"]
        target = str(b.get("phoneconfiguration-button-target", ""))
        line = int(target) if feature == "line" and target.isdigit() else 1
        value = "" if feature == "line" else target
        found.append(
            render.Key(
                feature,
                value,
                str(b.get("phoneconfiguration-button-label", "")),
                line,
                position=int(b["phoneconfiguration-button-order"]),
            )
        )
    return tuple(found)


def to_out(phone: Phone) -> ConfigurationOut:
    kept = phone.settings.get("configuration", {})
    return ConfigurationOut(
        phoneconfiguration_name=str(kept.get("name", "")),
        phoneconfiguration_mac_address=phone.mac,
        phoneconfiguration_description=str(kept.get("description", "")),
        phoneconfiguration_brand="yealink",
        phoneconfiguration_model=phone.model,
        phoneconfiguration_domain=phone.domain.name,
        phoneconfiguration_sidecars=list(kept.get("sidecars", [])),
        phoneconfiguration_extra=dict(kept.get("extra", {})),
        phoneconfiguration_directory=dict(kept.get("directory", {})),
        phoneconfiguration_buttons=list(phone.buttons or []),
        last_modified_datetime=phone.updated_at,
    )


def _apply(phone: Phone, body: ConfigurationFields) -> None:
    values = body.model_dump(exclude_unset=True)
    if values.get("phoneconfiguration_domain") and (
        values["phoneconfiguration_domain"].lower() != phone.domain.name
    ):
        raise Unprocessable("phoneconfiguration-domain does not match the phone's domain")
    brand = values.get("phoneconfiguration_brand")
    if brand and brand.lower() != "yealink":
        raise Unprocessable("phoneconfiguration-brand: only yealink phones are provisioned")
    if values.get("phoneconfiguration_model"):
        model = catalog.find(values["phoneconfiguration_model"])
        if model is None:
            raise Unprocessable(
                f"phoneconfiguration-model '{values['phoneconfiguration_model']}' is not a "
                "supported model (GET /phones/models)"
            )
        phone.model = model.name
    kept = dict(phone.settings.get("configuration", {}))
    for field, name in (
        ("phoneconfiguration_name", "name"),
        ("phoneconfiguration_description", "description"),
        ("phoneconfiguration_sidecars", "sidecars"),
        ("phoneconfiguration_extra", "extra"),
        ("phoneconfiguration_directory", "directory"),
    ):
        if field in values and values[field] is not None:
            kept[name] = values[field]
    phone.settings = {**phone.settings, "configuration": kept}
    if body.phoneconfiguration_buttons is not None or phone.buttons is None:
        phone.buttons = _buttons(phone, body.phoneconfiguration_buttons or [])


def _buttons(phone: Phone, buttons: list[Button]) -> list[dict[str, Any]]:
    model = phones.model_of(phone)
    seen: set[int] = set()
    out = []
    for b in sorted(buttons, key=lambda x: x.phoneconfiguration_button_order):
        order = b.phoneconfiguration_button_order
        where = f"button {order}"
        if order > model.line_keys:
            raise Unprocessable(f"{where}: a {model.name} has {model.line_keys} line keys")
        if order in seen:
            raise Unprocessable(f"{where}: two buttons share this order")
        seen.add(order)
        feature = FEATURES.get(
            b.phoneconfiguration_button_feature.strip().lower().replace(" ", "-")
        )
        if feature is None:
            raise Unprocessable(
                f"{where}: feature '{b.phoneconfiguration_button_feature}' is not one of "
                + ", ".join(sorted(set(FEATURES.values())))
            )
        target = str(b.phoneconfiguration_button_target).strip()
        if feature == "line" and not (target.isdigit() and 1 <= int(target) <= model.accounts):
            raise Unprocessable(f"{where}: a line key's target is an account, 1-{model.accounts}")
        if feature in ("blf", "speed-dial", "park") and not target:
            raise Unprocessable(f"{where}: a {feature} key needs a target")
        if any(c in target + b.phoneconfiguration_button_label for c in "\r\n\0"):
            raise Unprocessable(f"{where}: target and label are single lines")
        out.append(
            b.model_dump(by_alias=True, mode="json")
            | {
                "phoneconfiguration-button-feature": feature,
                "phoneconfiguration-button-target": target,
            }
        )
    return out


def _audit(session: AsyncSession, caller: Caller, action: str, phone: Phone, **kw: Any) -> None:
    audit.record(
        session,
        caller,
        action,
        "phoneconfiguration",
        phone.mac,
        reseller=phone.domain.reseller.name,
        domain=phone.domain.name,
        **kw,
    )


async def _configured(session: AsyncSession, caller: Caller, domain: str, mac: str) -> Phone:
    phone = await phones.get(session, caller, domain, mac)
    if phone.buttons is None:
        raise NotFound(f"Phone {phone.mac} has no phone configuration (it uses automatic keys)")
    return phone


async def get(session: AsyncSession, caller: Caller, domain: str, mac: str) -> ConfigurationOut:
    return to_out(await _configured(session, caller, domain, mac))


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    phones._require_reader(caller)
    stmt = (
        select(func.count())
        .select_from(Phone)
        .where(Phone.domain_id == domain.id, Phone.buttons.is_not(None))
    )
    return int(await session.scalar(stmt) or 0)


async def create(
    session: AsyncSession, caller: Caller, domain: str, body: ConfigurationCreate
) -> ConfigurationOut:
    phones._require_manager(caller)
    phone = await phones.get(session, caller, domain, body.phoneconfiguration_mac_address)
    if phone.buttons is not None:
        raise Conflict(f"Phone {phone.mac} already has a phone configuration; update it")
    _apply(phone, body)
    await session.flush()
    _audit(
        session, caller, "create", phone, after=to_out(phone).model_dump(by_alias=True, mode="json")
    )
    return to_out(phone)


async def update(
    session: AsyncSession, caller: Caller, domain: str, mac: str, body: ConfigurationFields
) -> ConfigurationOut:
    phones._require_manager(caller)
    phone = await _configured(session, caller, domain, mac)
    before = to_out(phone).model_dump(by_alias=True, mode="json")
    _apply(phone, body)
    await session.flush()
    await session.refresh(phone)
    after = to_out(phone).model_dump(by_alias=True, mode="json")
    _audit(session, caller, "update", phone, before=before, after=after)
    return to_out(phone)


async def delete(session: AsyncSession, caller: Caller, domain: str, mac: str) -> None:
    phones._require_manager(caller)
    phone = await _configured(session, caller, domain, mac)
    _audit(
        session,
        caller,
        "delete",
        phone,
        before=to_out(phone).model_dump(by_alias=True, mode="json"),
    )
    phone.buttons = None
    settings = dict(phone.settings)
    settings.pop("configuration", None)
    phone.settings = settings
    await session.flush()
