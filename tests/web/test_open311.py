"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) against its specification:
each endpoint's JSON and XML shapes, the filters, the errors, and a POST that ends in the admins'
/verifikasi queue like any other report."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from bot.services.apikeys import create_key, revoke_key
from storage.models import ApiKey, ApiSubmission, Category, Report
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, tap
from tests.handlers.harness import Harness
from tests.web.helpers import BASE, REPORTER_NAME, SECRET_HANDLE, WEB, add_report, client, world

V2 = "/open311/v2"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                  "long", "media_url"}


def _spec_error(payload, code: int) -> None:
    assert isinstance(payload, list) and payload[0]["code"] == code and payload[0]["description"]


async def _key(h: Harness, name: str = "kiosk") -> str:
    async with h.app.session_factory() as s:
        _row, key = await create_key(s, name, datetime.now(UTC))
    return key


async def test_discovery_and_services_in_json_and_xml(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        await world(h)
        async with client(h) as c:
            disc = await (await c.get(f"{V2}/discovery.json")).json()
            assert disc["endpoints"][0]["url"] == f"{BASE}/open311/v2"
            assert disc["endpoints"][0]["specification"].endswith("GeoReport_v2")
            assert set(disc["endpoints"][0]["formats"]) == {"application/json", "text/xml"}
            assert disc["contact"] == "diskominfo@example.go.id"
            xml = ET.fromstring(await (await c.get(f"{V2}/discovery.xml")).text())
            assert xml.tag == "discovery" and xml.find("endpoints/endpoint/formats/format") is not None

            services = await (await c.get(f"{V2}/services.json")).json()
            by_code = {s["service_code"]: s for s in services}
            assert set(by_code) == {"infrastruktur", "kesehatan", "jalan-rusak", "drainase", "lainnya"}
            for s in services:
                assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords",
                                  "group"}
                assert s["type"] == "realtime"
            assert by_code["jalan-rusak"]["group"] == "Infrastruktur"
            english = {s["service_code"]: s for s in await (await c.get(f"{V2}/services.json?lang=en")).json()}
            assert english["jalan-rusak"]["service_name"] == "Damaged road"
            resp = await c.get(f"{V2}/services.xml")
            assert resp.content_type == "text/xml"
            root = ET.fromstring(await resp.text())
            assert root.tag == "services" and len(root.findall("service")) == 5
            assert root.find("service/metadata").text in ("true", "false")


async def test_service_definition_lists_the_attributes(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        async with h.app.session_factory() as s:
            road = await s.get(Category, ids["jalan-rusak"])
            road.attributes = [{"code": "ukuran", "datatype": "singlevaluelist", "description": "Seberapa besar?",
                                "required": True, "order": 1, "values": [{"key": "besar", "name": "Besar"}]}]
            await s.commit()
        async with client(h) as c:
            services = {s["service_code"]: s for s in await (await c.get(f"{V2}/services.json")).json()}
            assert services["jalan-rusak"]["metadata"] is True and services["drainase"]["metadata"] is False
            definition = await (await c.get(f"{V2}/services/jalan-rusak.json")).json()
            attr = definition["attributes"][0]
            assert definition["service_code"] == "jalan-rusak"
            assert (attr["code"], attr["datatype"], attr["required"], attr["variable"], attr["order"]) == (
                "ukuran", "singlevaluelist", True, True, 1)
            assert attr["values"] == [{"key": "besar", "name": "Besar"}]
            root = ET.fromstring(await (await c.get(f"{V2}/services/jalan-rusak.xml")).text())
            assert root.tag == "service_definition"
            assert root.find("attributes/attribute/values/value/key").text == "besar"
            missing = await c.get(f"{V2}/services/nope.json")
            assert missing.status == 404
            _spec_error(await missing.json(), 404)
            xml_error = ET.fromstring(await (await c.get(f"{V2}/services/nope.xml")).text())
            assert xml_error.tag == "errors" and xml_error.find("error/code").text == "404"


async def test_requests_shapes_and_what_is_public(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        public = await add_report(h, ids, lapor_id="1916449")
        anonymous = await add_report(h, ids, privacy="anonymous")
        confidential = await add_report(h, ids, privacy="confidential")
        async with client(h) as c:
            listed = await (await c.get(f"{V2}/requests.json")).json()
            by_id = {r["service_request_id"]: r for r in listed}
            assert set(by_id) == {public.tracking_id, anonymous.tracking_id}
            p = by_id[public.tracking_id]
            assert REQUEST_FIELDS <= set(p)
            assert (p["status"], p["service_code"], p["agency_responsible"]) == ("open", "jalan-rusak",
                                                                                 "Dinas Pekerjaan Umum")
            assert p["status_notes"] == "Diteruskan ke instansi" and p["lapor_id"] == "1916449"
            assert p["media_url"] == f"{BASE}/r/{public.tracking_id}"
            assert p["requested_datetime"].endswith("+08:00") and p["expected_datetime"].endswith("23:59:59+08:00")
            assert p["lat"] == -1.25 and p["address"].startswith("Jl. Mawar")
            a = by_id[anonymous.tracking_id]
            assert a["lat"] is None and a["long"] is None and a["address"] is None and a["description"]
            raw = await (await c.get(f"{V2}/requests.json")).text()
            for secret in (REPORTER_NAME, SECRET_HANDLE, "Quartermain"):
                assert secret not in raw
            root = ET.fromstring(await (await c.get(f"{V2}/requests.xml")).text())
            assert root.tag == "service_requests" and len(root.findall("request")) == 2
            assert root.find("request/status").text == "open"
            # One request: a list of one; confidential and unknown are the same 404.
            one = await (await c.get(f"{V2}/requests/{public.tracking_id}.json")).json()
            assert [r["service_request_id"] for r in one] == [public.tracking_id]
            hidden = await c.get(f"{V2}/requests/{confidential.tracking_id}.json")
            nothing = await c.get(f"{V2}/requests/LPR-AAAA-AAAA.json")
            assert hidden.status == nothing.status == 404
            assert await hidden.read() == await nothing.read()


async def test_request_filters(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        open_road = await add_report(h, ids, days_ago=3)
        closed_health = await add_report(h, ids, status="closed", category="kesehatan", days_ago=5)
        no_category = await add_report(h, ids, category=None, days_ago=4)
        old = await add_report(h, ids, days_ago=200)
        async with client(h) as c:
            async def ids_for(query: str) -> set[str]:
                resp = await c.get(f"{V2}/requests.json?{query}")
                assert resp.status == 200, await resp.text()
                return {r["service_request_id"] for r in await resp.json()}

            # Without dates: the last 90 days.
            assert await ids_for("") == {open_road.tracking_id, closed_health.tracking_id, no_category.tracking_id}
            assert await ids_for("status=closed") == {closed_health.tracking_id}
            assert await ids_for("status=open") == {open_road.tracking_id, no_category.tracking_id}
            assert await ids_for("service_code=kesehatan") == {closed_health.tracking_id}
            assert await ids_for("service_code=lainnya") == {no_category.tracking_id}
            # With ids, every other filter is ignored (the specification).
            assert await ids_for(f"service_request_id={old.tracking_id},{open_road.tracking_id}&status=closed") == {
                old.tracking_id, open_road.tracking_id}
            start = (datetime.now(UTC) - timedelta(days=210)).strftime("%Y-%m-%dT%H:%M:%SZ")
            end = (datetime.now(UTC) - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
            assert await ids_for(f"start_date={start}&end_date={end}") == {old.tracking_id}


@pytest.mark.parametrize(("query", "says"), [
    ("start_date=yesterday", "start_date"),
    ("start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z", "90 days"),
    ("start_date=2024-06-01T00:00:00Z&end_date=2024-05-01T00:00:00Z", "before"),
    ("status=pending", "status"),
    ("service_code=nope", "service_code"),
])
async def test_bad_filters_are_refused_in_the_spec_format(tmp_path, query, says):
    async with Harness.create(tmp_path, **WEB) as h:
        await world(h)
        async with client(h) as c:
            resp = await c.get(f"{V2}/requests.json?{query}")
            assert resp.status == 400
            payload = await resp.json()
            _spec_error(payload, 400)
            assert says in payload[0]["description"]
            xml = ET.fromstring(await (await c.get(f"{V2}/requests.xml?{query}")).text())
            assert xml.find("error/code").text == "400"


async def test_wrong_method_and_format(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        async with client(h) as c:
            put = await c.put(f"{V2}/requests.json")
            assert put.status == 405
            _spec_error(await put.json(), 405)
            html = await c.get(f"{V2}/requests.html")
            assert html.status == 404
            _spec_error(await html.json(), 404)


# -- POST -----------------------------------------------------------------------------------------
GOOD = {"service_code": "jalan-rusak", "lat": "-1.2551", "long": "116.8302",
        "description": "Lubang besar di depan pasar.\nSudah tiga minggu belum ditambal.",
        "first_name": "Siti", "last_name": "Aminah", "phone": "0812-555-000"}


@pytest.mark.parametrize(("change", "code", "says"), [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "lk_wrong"}, 403, "api_key"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "nope"}, 400, "service_code"),
    ({"lat": None, "long": None}, 400, "location"),
    ({"long": None}, 400, "lat and long"),
    ({"lat": "95"}, 400, "lat"),
    ({"description": "x" * 3001}, 400, "longer"),
    ({"description": "pendek"}, 400, "at least"),
    ({"privacy": "secret"}, 400, "privacy"),
    ({"attribute[warna]": "merah"}, 400, "unknown attribute"),
])
async def test_bad_posts_are_refused_and_file_nothing(tmp_path, change, code, says):
    async with Harness.create(tmp_path, **WEB) as h:
        await world(h)
        data = {**GOOD, "api_key": await _key(h), **change}
        async with client(h) as c:
            resp = await c.post(f"{V2}/requests.json", data={k: v for k, v in data.items() if v is not None})
            payload = await resp.json()
        assert resp.status == code, payload
        _spec_error(payload, code)
        assert says in payload[0]["description"]
        async with h.app.session_factory() as s:
            assert (await s.scalars(select(Report))).all() == []


async def test_a_revoked_key_no_longer_files(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        await world(h)
        key = await _key(h)
        async with h.app.session_factory() as s:
            await revoke_key(s, "kiosk", datetime.now(UTC))
        async with client(h) as c:
            resp = await c.post(f"{V2}/requests.xml", data={**GOOD, "api_key": key})
            assert resp.status == 403
            assert ET.fromstring(await resp.text()).find("error/code").text == "403"


async def test_keys_are_stored_hashed(tmp_path):
    async with Harness.create(tmp_path) as h:
        key = await _key(h)
        async with h.app.session_factory() as s:
            row = await s.scalar(select(ApiKey))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in row.key_hash
        assert key.startswith(row.prefix) and len(row.prefix) < 12


async def test_a_post_lands_in_the_verification_queue(tmp_path):
    async with Harness.create(tmp_path, **WEB, **FAST_DELIVERY) as h:
        await world(h)
        key = await _key(h)
        async with client(h) as c:
            resp = await c.post(f"{V2}/requests.json", data={**GOOD, "api_key": key, "privacy": "anonymous"})
            assert resp.status == 200, await resp.text()
            (answer,) = await resp.json()
            assert set(answer) == {"service_request_id", "service_notice", "account_id"}
            tracking = answer["service_request_id"]
            # Readable at once through the API and the page, with nothing of the filer.
            (got,) = await (await c.get(f"{V2}/requests/{tracking}.json")).json()
            assert got["status"] == "open" and got["description"] is None  # not verified yet
        async with h.app.session_factory() as s:
            report = await s.scalar(select(Report).where(Report.tracking_id == tracking))
            filer = await s.get(ApiSubmission, report.id)
        assert (report.status, report.channel, report.citizen_id, report.privacy) == (
            "submitted", "open311", None, "anonymous")
        # Anonymous: the point is kept only to ~100 m (issue 10), like a citizen's in the form.
        assert report.title == "Lubang besar di depan pasar." and report.latitude == -1.255
        assert (filer.first_name, filer.phone) == ("Siti", "0812-555-000")
        # The admins hear of it and find it in /verifikasi like any other report.
        await drain(h)
        assert tracking in h.last_text(ADMIN)
        admin = h.user(ADMIN, "Admin")
        await h.send(admin, "/verifikasi")
        assert any(tracking in label for label, _ in h.last(ADMIN).buttons)
        await tap(h, admin, tracking)
        card = "".join(m.text or "" for m in h.sent_to(ADMIN)[-2:])
        assert "kiosk" in card and "Siti Aminah" in card and "0812-555-000" in card
