"""The pages in a real browser against a real service: verify, exporter, customs, auditor,
languages, and the weight of the verify page."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from api.pages.i18n import catalogue
from api.pages.slip import url_lines
from tests.pages.conftest import ARTIFACTS, Service, shot, wait_for

pytestmark = pytest.mark.chain
VERIFY_BUDGET = 150 * 1024


def doc(label: str, size: int = 0) -> bytes:
    """A document no other test registers (``size`` pads it, for upload progress)."""
    body = f"%PDF-1.4 demo {label} {os.urandom(16).hex()}\n".encode()
    return body + b"0" * max(0, size - len(body))


def choose_file(page: Any, selector: str, *files: tuple[str, bytes]) -> None:
    page.set_input_files(
        selector, [{"name": n, "mimeType": "application/pdf", "buffer": b} for n, b in files]
    )


def verdict(page: Any) -> str:
    page.wait_for_selector("#result [data-verdict]")
    value: str = page.get_attribute("#result [data-verdict]", "data-verdict")
    return value


def test_registered_file_is_valid_and_only_its_hash_is_sent(page: Any, service: Service) -> None:
    content = doc("valid")
    service.register(content, 861, "SMGS-VALID-1")
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
    page.goto("/")
    choose_file(page, "#file", ("certificate.pdf", content))
    assert verdict(page) == "VALID"
    result = page.inner_text("#result")
    assert "Demo Kazakh Flour Exporter LLP" in result
    assert "KZ" in result and "Certificate of origin (861)" in result
    assert "SMGS-VALID-1" in result and "Registered" in result
    assert [(r.url.removeprefix(service.url), r.post_data_json) for r in sent] == [
        ("/v1/verify", {"sha256": hashlib.sha256(content).hexdigest()})
    ]
    shot(page, "verify-valid")


def test_tampered_file_is_invalid(page: Any, service: Service) -> None:
    content = doc("tampered")
    service.register(content)
    page.goto("/")
    choose_file(page, "#file", ("certificate.pdf", content + b" "))
    assert verdict(page) == "INVALID"
    assert "No document with this fingerprint is registered" in page.inner_text("#result")
    shot(page, "verify-invalid")


def test_evidence_bundle_and_its_document(page: Any, service: Service) -> None:
    content = doc("bundle")
    sha = service.register(content)["sha256"]
    with service.api() as c:
        got: dict[str, Any] = {}

        def final() -> bool:  # 425 until its block is final (in a snapshot)
            got["r"] = c.get(f"/v1/documents/{sha}/evidence")
            return bool(got["r"].status_code != 425)

        wait_for(final, 30, "the evidence bundle")
        bundle = got["r"].content
    page.goto("/")
    choose_file(page, "#file", ("doc.pdf", content), ("doc.evidence.json", bundle))
    assert verdict(page) == "VALID"
    page.goto("/")
    choose_file(page, "#file", ("doc.pdf", content + b"x"), ("doc.evidence.json", bundle))
    assert verdict(page) == "INVALID"
    assert "tampered" in page.inner_text("#result")


def test_js_sha256_fallback_matches(page: Any) -> None:
    page.goto("/")
    for data in (b"", b"abc", os.urandom(1000), os.urandom(64 * 3 + 55)):
        got = page.evaluate("(a) => window.sha256js(new Uint8Array(a))", list(data))
        assert got == hashlib.sha256(data).hexdigest()


def test_permalink_works_without_scripts_and_has_a_slip(browser: Any, service: Service) -> None:
    content = doc("permalink")
    sha = service.register(content, 720, "SMGS-QR-7")["sha256"]
    context = browser.new_context(base_url=service.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"/v/{sha}")
        assert page.get_attribute("[data-verdict]", "data-verdict") == "VALID"
        assert "Rail consignment note" in page.inner_text("#result")
        assert page.is_hidden("#drop")  # hashing in the page needs the script
        shot(page, "permalink-noscript")
        bad = page.goto("/v/not-a-fingerprint")
        assert bad is not None and bad.status == 422
        assert "64 hexadecimal digits" in page.inner_text(".error")
        page.goto("/")
        page.fill("#sha256", sha.upper())
        page.click(".hashform button")
        page.wait_for_url(f"**/v/{sha}")
        assert page.get_attribute("[data-verdict]", "data-verdict") == "VALID"
        slip = page.request.get(f"/v/{sha}/slip.png")
        assert slip.ok and slip.headers["content-type"] == "image/png"
        assert slip.body()[:8] == b"\x89PNG\r\n\x1a\n"
        (ARTIFACTS / "slip.png").write_bytes(slip.body())
        svg = page.request.get(f"/v/{sha}/slip.svg?lang=ru").text()
        assert all(part in svg for part in url_lines(f"{service.url}/v/{sha}"))
        assert catalogue("ru")["slip.title"] in svg
        (ARTIFACTS / "slip-ru.svg").write_text(svg)
        (ARTIFACTS / "slip-fa.png").write_bytes(
            page.request.get(f"/v/{sha}/slip.png?lang=fa").body()
        )
        page.set_viewport_size({"width": 1200, "height": 720})
        page.goto(f"/v/{sha}/slip.svg?lang=fa")
        page.screenshot(path=str(ARTIFACTS / "slip-fa-svg.png"))
    finally:
        context.close()


def test_chain_down_is_unverifiable_not_invalid(page: Any, service: Service) -> None:
    content = doc("outage")
    service.register(content)
    page.goto("/")
    os.kill(service.chain.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
    try:
        wait_for(lambda: service.health() == 503, 20, "the service to notice the outage")
        choose_file(page, "#file", ("certificate.pdf", content))
        assert verdict(page) == "UNVERIFIABLE"
        assert "The chain cannot be reached" in page.inner_text("#result")
        shot(page, "verify-unverifiable")
    finally:
        os.kill(service.chain.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
        wait_for(lambda: service.health() == 200, 30, "the chain to be back")


def set_key(page: Any, key: str) -> None:
    page.fill("#apikey", key)
    page.click(".keyform button")
    page.wait_for_selector(".keyset", state="visible")


def test_exporter_registers_a_shipment(page: Any, service: Service) -> None:
    page.goto("/exporter")
    set_key(page, service.keys["exporter"])
    files = [
        ("invoice.pdf", doc("inv", 400_000)),
        ("packing.pdf", doc("pl", 300_000)),
        ("origin.pdf", doc("co", 200_000)),
    ]
    choose_file(page, "#files", *files)
    selects = page.locator("#filelist select")
    assert selects.count() == 3
    for i, code in enumerate(("380", "271", "861")):
        selects.nth(i).select_option(code)
    page.fill("#consignment", "SMGS-SHIP-42")
    page.click("#register button[type=submit]")
    page.wait_for_selector("#results tbody tr:nth-child(3)")
    wait_for(
        lambda: page.locator("#results [data-status=registered]").count() == 3,
        20,
        "three registered",
    )
    assert page.get_attribute("#upload", "value") == "100"
    rows = page.inner_text("#results tbody")
    assert "Commercial invoice (380)" in rows and "Packing list (271)" in rows
    for name, content in files:
        sha = hashlib.sha256(content).hexdigest()
        assert page.locator(f'#results a[href="/v/{sha}/slip.png"]').count() == 1, name
    assert page.evaluate("sessionStorage.getItem('tdl.key.exporter')") == service.keys["exporter"]
    shot(page, "exporter-shipment")
    first = hashlib.sha256(files[0][1]).hexdigest()
    with service.api() as c:
        wait_for(lambda: c.get(f"/v1/documents/{first}").status_code == 200, 10, "the index")
        record = c.get(f"/v1/documents/{first}").json()["record"]
    assert record["consignment_ref"] == "SMGS-SHIP-42" and record["doc_type"] == 380


def test_exporter_registers_one_document_and_spots_a_duplicate(page: Any, service: Service) -> None:
    content = doc("single")
    page.goto("/exporter")
    set_key(page, service.keys["chamber"])
    page.fill("#consignment", "SMGS-ONE-1")
    for expected in ("registered", "already registered"):
        choose_file(page, "#files", ("origin.pdf", content))
        page.locator("#filelist select").select_option("861")
        page.click("#register button[type=submit]")
        wait_for(lambda e=expected: e in page.inner_text("#results tbody"), 20, expected)
    sha = hashlib.sha256(content).hexdigest()
    assert page.locator(f'#results tr[data-sha256="{sha}"]').count() == 2
    with service.api() as c:
        issuer = c.get(f"/v1/documents/{sha}").json()["record"]["issuer"]["organisation"]
    assert issuer == "Demo Chamber of Commerce of Kazakhstan"


def test_customs_verifies_then_attests_in_two_clicks(page: Any, service: Service) -> None:
    content = doc("customs")
    service.register(content, 851, "SMGS-CUST-5")
    page.goto("/customs")
    set_key(page, service.keys["customs"])
    choose_file(page, "#file", ("phyto.pdf", content))
    assert verdict(page) == "VALID"
    page.fill("#reference", "HRT-2026-0042")
    page.click("#attest button[data-verdict=cleared]")
    page.click("#confirm")
    page.wait_for_selector("text=Attestation recorded.")
    page.wait_for_selector("#result table.atts")
    row = page.inner_text("#result table.atts tbody")
    assert "Demo Hairatan Border Customs" in row and "Cleared" in row and "HRT-2026-0042" in row
    assert page.is_hidden("#confirm")
    shot(page, "customs-attested")


def test_auditor_filters_pages_exports_and_charts(page: Any, service: Service) -> None:
    ref = f"SMGS-AUD-{os.urandom(3).hex()}"
    shas = [service.register(doc(f"aud{i}"), 380, ref)["sha256"] for i in range(3)]
    with service.api("customs") as c:
        assert (
            c.post(f"/v1/documents/{shas[0]}/attestations", json={"verdict": "held"}).status_code
            == 201
        )
    page.goto("/auditor?limit=2")
    set_key(page, service.keys["auditor"])
    page.fill("input[name=consignment_ref]", ref)
    page.select_option("select[name=doc_type]", "380")
    page.click("#filters button[type=submit]")
    wait_for(lambda: ref in page.inner_text("#docs tbody"), 20, "the first page")
    assert page.locator("#docs tbody tr").count() == 2
    first = page.inner_text("#docs tbody")
    page.click("#next")
    wait_for(lambda: page.locator("#docs tbody tr").count() == 1, 20, "the second page")
    assert page.inner_text("#page") == "Page 2" and page.is_disabled("#next")
    page.click("#prev")
    wait_for(lambda: page.inner_text("#docs tbody") == first, 20, "the first page again")
    assert "Index at block" in page.inner_text("#lag")
    page.wait_for_selector("#chart svg rect.bar-r")
    with page.expect_download() as download:
        page.click("#csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["sha256"] for r in rows) == sorted(shas)
    page.select_option("select[name=verdict]", "held")
    page.click("#filters button[type=submit]")
    wait_for(lambda: page.locator("#docs tbody tr").count() == 1, 20, "one held row")
    shot(page, "auditor")


def test_dari_is_right_to_left_and_translated(page: Any, service: Service) -> None:
    fa = catalogue("fa")
    content = doc("dari")
    service.register(content)
    page.goto("/?lang=fa")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa-AF"
    assert page.inner_text("h1") == fa["verify.title"]
    choose_file(page, "#file", ("certificate.pdf", content))
    assert verdict(page) == "VALID"
    assert fa["verdict.VALID"] in page.inner_text("#result .word")
    shot(page, "verify-dari")
    page.goto("/customs")  # the choice is kept in a cookie
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("h1") == fa["customs.title"]
    page.click("a[data-lang=ps]")
    assert page.get_attribute("html", "lang") == "ps-AF"
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("h1") == catalogue("ps")["customs.title"]
    shot(page, "customs-pashto")
    page.click("a[data-lang=en]")
    assert page.get_attribute("html", "dir") == "ltr"


def test_accept_language_picks_the_page_language(browser: Any, service: Service) -> None:
    context = browser.new_context(base_url=service.url, locale="ru-RU")
    try:
        page = context.new_page()
        page.goto("/exporter")
        assert page.get_attribute("html", "lang") == "ru"
        assert page.inner_text("h1") == catalogue("ru")["exporter.title"]
        shot(page, "exporter-russian")
    finally:
        context.close()


def test_verify_page_is_light_and_self_contained(browser: Any, service: Service) -> None:
    context = browser.new_context(base_url=service.url)
    try:
        page = context.new_page()
        sizes: dict[str, int] = {}
        page.on("requestfinished", lambda r: sizes.__setitem__(r.url, len(r.response().body())))
        page.goto("/", wait_until="networkidle")
        total = sum(sizes.values())
        assert total <= VERIFY_BUDGET, json.dumps(sizes)
        assert all(url.startswith(service.url) for url in sizes), sizes
        assert len(sizes) == 4  # the page, its stylesheet, the shared i18n.js, its script
        css = next(u for u in sizes if "/static/style.css" in u)
        cache = page.request.get(css).headers["cache-control"]
        assert "max-age=31536000" in cache and "immutable" in cache
    finally:
        context.close()


def test_keyboard_reaches_every_control(page: Any) -> None:
    page.goto("/customs")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.add(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert {"apikey", "file", "sha256"} <= seen


def test_api_docs_work_with_the_network_unplugged(browser: Any, service: Service) -> None:
    """Issue 12.2: /docs loaded Swagger UI from a CDN (blank offline, and a third-party
    script on the origin where the pages keep API keys). Every request but the service's
    own is refused here: the page must render and list the operations."""
    context = browser.new_context(base_url=service.url)
    elsewhere: list[str] = []

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(service.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    try:
        context.route("**/*", only_the_service)
        page = context.new_page()
        page.goto("/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        text = page.inner_text("body")
        for path in ("/v1/documents", "/v1/verify", "/v1/audit/documents", "/v1/admin/api-keys"):
            assert path in text, path
        assert page.locator(".opblock").count() >= 20
        assert not elsewhere, elsewhere
        shot(page, "api-docs-offline")
    finally:
        context.close()


def test_slip_urls_come_from_the_configured_address_not_the_host_header(service: Service) -> None:
    """Issue 12.4: `Host: evil.example` printed evil.example/v/… on the slip."""
    sha = service.register(doc("host"))["sha256"]
    with service.api() as c:
        svg = c.get(f"/v/{sha}/slip.svg", headers={"Host": "evil.example"}).text
    assert "evil.example" not in svg
    assert all(part in svg for part in url_lines(f"{service.url}/v/{sha}"))


def test_auditor_chooses_organisations_by_name(page: Any, service: Service) -> None:
    """Issue 12.13: organisations were chosen by typing a numeric id."""
    ref = f"SMGS-ORG-{os.urandom(3).hex()}"
    mine = service.register(doc("org-exporter"), 380, ref)["sha256"]
    with service.api("chamber") as c:
        r = c.post(
            "/v1/documents",
            files={"file": ("c.pdf", doc("org-chamber"))},
            data={"doc_type": "861", "consignment_ref": ref},
        )
        assert r.status_code == 201, r.text
    with service.api("auditor") as c:

        def indexed() -> bool:
            found = c.get("/v1/audit/documents", params={"consignment_ref": ref})
            return len(found.json()["items"]) == 2

        wait_for(indexed, 20, "both documents indexed")
    page.goto("/auditor")
    set_key(page, service.keys["auditor"])
    issuers = "select[name=org_id] option"
    wait_for(lambda: page.locator(issuers).count() >= 3, 20, "the organisations by name")
    names = page.locator(issuers).all_inner_texts()
    assert "Demo Kazakh Flour Exporter LLP (KZ)" in names
    assert "Demo Chamber of Commerce of Kazakhstan (KZ)" in names
    assert not any("Customs" in n for n in names)  # issuers only
    attesters = page.locator("select[name=attester_org_id] option").all_inner_texts()
    assert "Demo Hairatan Border Customs (AF)" in attesters
    page.fill("input[name=consignment_ref]", ref)
    page.select_option("select[name=org_id]", label="Demo Kazakh Flour Exporter LLP (KZ)")
    page.click("#filters button[type=submit]")
    wait_for(lambda: page.locator("#docs tbody tr").count() == 1, 20, "the exporter's document")
    assert mine[:16] in page.inner_text("#docs tbody")
    shot(page, "auditor-organisations")
