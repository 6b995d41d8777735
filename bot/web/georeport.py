"""Open311 GeoReport v2 shapes (https://wiki.open311.org/GeoReport_v2): our reports and
categories as the specification's fields, in JSON or XML.

Mapping (also in the README):
- service = a category (``service_code`` = its code; ``lainnya`` = "Lainnya / Tidak tahu");
  ``group`` = the parent topic; ``metadata`` true when it has attributes;
- status: open while a report is anywhere before completion (waiting for verification, with
  the agency, answered and waiting for the reporter), closed once completed, not accepted or
  archived; ``status_notes`` is our status in words;
- ``agency_responsible`` = the agency it is assigned to; ``expected_datetime`` = the end of the
  completion deadline's day (working days, PermenPANRB 62/2018) while open;
- ``media_url`` = the report's public page; ``description``/``address``/``lat``/``long`` only
  where the public page shows them (bot.domain.publication); never the reporter's identity.
Extensions beside the specification's fields: ``title`` and ``lapor_id`` (SP4N-LAPOR! number).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from bot.domain.categories import OTHER_CODE, display_name
from bot.domain.publication import page_url
from bot.services.public_reports import PublicReport
from storage.models import Category

SPEC_URL = "https://wiki.open311.org/GeoReport_v2"
# Singular element names of XML lists (``<services><service>``...).
_ITEM = {
    "services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
    "formats": "format", "attributes": "attribute", "values": "value",
}


def iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None


def end_of_day(day: date | None, tz: ZoneInfo) -> str | None:
    if day is None:
        return None
    return datetime.combine(day, time(23, 59, 59), tz).isoformat(timespec="seconds")


def discovery(base_url: str, contact: str, changeset: str) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": "API keys for filing requests are issued by the coordinator (lapor-bot apikeys create).",
        "endpoints": [{
            "specification": SPEC_URL,
            "url": f"{base_url}/open311/v2",
            "changeset": changeset,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


def other_service(label: str, description: str) -> dict[str, Any]:
    return {"service_code": OTHER_CODE, "service_name": label, "description": description,
            "metadata": False, "type": "realtime", "keywords": "", "group": ""}


def service(category: Category, parents: Mapping[int, Category], lang: str) -> dict[str, Any]:
    parent = parents.get(category.parent_id) if category.parent_id else None
    return {
        "service_code": category.code,
        "service_name": display_name(category.name, category.name_en, lang),
        "description": category.description or "",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": "",
        "group": display_name(parent.name, parent.name_en, lang) if parent else "",
    }


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": a["code"],
                "datatype": a["datatype"],
                "required": a["required"],
                "datatype_description": None,
                "order": a["order"],
                "description": a["description"],
                "values": a.get("values", []),
            }
            for a in category.attributes
        ],
    }


def request(r: PublicReport, *, tz: ZoneInfo, base_url: str | None, lang: str, status_notes: str,
            other_label: str) -> dict[str, Any]:
    return {
        "service_request_id": r.tracking_id,
        "status": "open" if r.is_open else "closed",
        "status_notes": status_notes,
        "service_name": display_name(r.category.name, r.category.name_en, lang) if r.category else other_label,
        "service_code": r.category.code if r.category else OTHER_CODE,
        "description": r.description,
        "title": r.title,
        "agency_responsible": r.agency.name if r.agency else None,
        "service_notice": None,
        "requested_datetime": iso(r.submitted_at, tz),
        "updated_datetime": iso(r.updated_at, tz),
        "expected_datetime": end_of_day(r.completion_due, tz) if r.is_open else None,
        "address": r.address,
        "address_id": None,
        "zipcode": None,
        "lat": r.lat,
        "long": r.long,
        # Every PublicReport is listed publicly: its page exists.
        "media_url": page_url(base_url, r.tracking_id) if base_url else None,
        "lapor_id": r.lapor_id,
    }


def errors(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


# -- encodings -----------------------------------------------------------------------------------
def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, data: Any, name: str) -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            _fill(ET.SubElement(parent, key), value, key)
    elif isinstance(data, Sequence) and not isinstance(data, str):
        for item in data:
            _fill(ET.SubElement(parent, _ITEM.get(name, "item")), item, _ITEM.get(name, "item"))
    else:
        parent.text = _xml_value(data)


def to_xml(root: str, data: Any) -> str:
    """``root`` is the document element: discovery, services, service_definition,
    service_requests or errors (lists become one child element per item)."""
    element = ET.Element(root)
    _fill(element, data, root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
