"""Every page in every language in a real browser: language tags and direction, dates with
the Solar Hijri date on Dari and Pashto pages, the browser scripts formatting exactly like
the server; a screenshot of each page and language in test-artifacts/pages/."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api.pages import formats, solarhijri
from api.pages.i18n import LANGUAGES, Translator
from tests.pages.conftest import ARTIFACTS, Service, shot, wait_for
from tests.pages.test_pages import choose_file, doc, set_key, verdict

pytestmark = pytest.mark.chain


def unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@pytest.fixture(scope="module")
def shipment(service: Service) -> dict[str, Any]:
    """A packing list (Pashto ۍ in its name) attested by customs, and its consignment."""
    content = doc("languages")
    ref = "SMGS-LANG-" + hashlib.sha256(content).hexdigest()[:6]
    record = service.register(content, 271, ref)
    with service.api("customs") as c:
        r = c.post(f"/v1/documents/{record['sha256']}/attestations", json={"verdict": "held"})
        assert r.status_code == 201, r.text
    with service.api() as c:
        wait_for(
            lambda: c.get(f"/v1/documents/{record['sha256']}").status_code == 200, 20, "the index"
        )
        details = c.get(f"/v1/documents/{record['sha256']}").json()
    return {"content": content, "ref": ref, "details": details, "sha256": record["sha256"]}


@pytest.fixture
def context(browser: Any, service: Service) -> Any:
    ctx = browser.new_context(base_url=service.url, viewport={"width": 1100, "height": 900})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_in_every_language(
    context: Any, service: Service, shipment: dict[str, Any], lang: str
) -> None:
    t = Translator(lang)
    page = context.new_page()
    page.set_default_timeout(15_000)
    record = shipment["details"]["record"]
    registered = t.when(unix(record["registered_at"]))
    attested = t.when(unix(shipment["details"]["attestations"][0]["attested_at"]))
    if lang in ("fa", "ps"):  # the Afghan date beside the Gregorian one
        assert "(" in registered and any(m in registered for m in solarhijri.MONTHS[lang])

    page.goto(f"/?lang={lang}")
    assert page.get_attribute("html", "lang") == t.tag
    assert page.get_attribute("html", "dir") == t.dir
    choose_file(page, "#file", ("packing.pdf", shipment["content"]))
    assert verdict(page) == "VALID"
    result = page.inner_text("#result")  # drawn by verify.js from the API's JSON
    assert registered in result and attested in result
    assert t.doc_type(271) in result and t("att.held") in result
    shot(page, f"verify-{lang}")

    page.goto(f"/v/{shipment['sha256']}")  # drawn on the server; same text
    assert page.inner_text("#result").replace("\n", " ").count(registered) >= 1
    assert attested in page.inner_text("#result")
    shot(page, f"permalink-{lang}")

    page.goto("/exporter")
    set_key(page, service.keys["exporter"])
    choose_file(page, "#files", ("a.pdf", b"a"), ("b.pdf", b"b"))
    assert t.doc_type(861) in page.inner_text("#filelist")
    shot(page, f"exporter-{lang}")

    page.goto("/customs")
    set_key(page, service.keys["customs"])
    choose_file(page, "#file", ("packing.pdf", shipment["content"]))
    assert verdict(page) == "VALID"
    page.click("#attest button[data-verdict=cleared]")
    assert page.inner_text("#confirm") == t("customs.confirm", verdict=t("att.cleared"))
    shot(page, f"customs-{lang}")

    page.goto("/auditor")
    set_key(page, service.keys["auditor"])
    page.fill("input[name=consignment_ref]", shipment["ref"])
    page.click("#filters button[type=submit]")
    wait_for(lambda: shipment["ref"] in page.inner_text("#docs tbody"), 20, "the auditor's row")
    row = page.inner_text("#docs tbody")
    assert registered in row and t.doc_type(271) in row
    page.wait_for_selector("#chart svg rect.bar-r")
    lag = page.inner_text("#lag")
    assert lag and "{" not in lag
    shot(page, f"auditor-{lang}")

    png = page.request.get(f"/v/{shipment['sha256']}/slip.png?lang={lang}")
    assert png.ok and png.headers["content-type"] == "image/png"
    (ARTIFACTS / f"slip-{lang}.png").write_bytes(png.body())
    svg = page.request.get(f"/v/{shipment['sha256']}/slip.svg?lang={lang}").text()
    assert f'xml:lang="{t.tag}"' in svg and t("slip.title") in svg
    (ARTIFACTS / f"slip-{lang}.svg").write_text(svg, encoding="utf-8")
    page.set_viewport_size({"width": 1200, "height": 720})
    page.goto(f"/v/{shipment['sha256']}/slip.svg?lang={lang}")
    page.screenshot(path=str(ARTIFACTS / f"slip-{lang}-svg.png"))


SAMPLE_DAYS = [date(1990, 1, 1) + timedelta(days=3 * i) for i in range(0, 365 * 40)]


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_scripts_format_like_the_server(context: Any, lang: str) -> None:
    """i18n.js against formats.py / messages.py / solarhijri.py, value by value."""
    page = context.new_page()
    page.goto(f"/auditor?lang={lang}")
    t = Translator(lang)
    stamps = [int(datetime(2025, m, 1 + m, m, 4 * m, tzinfo=UTC).timestamp()) for m in range(1, 13)]
    stamps += [0, 1742515200, 1742601599, 4102444800]
    assert page.evaluate("(ts) => ts.map((s) => I18N.when(s))", stamps) == [
        t.when(s) for s in stamps
    ]
    numbers = [0, 7, 999, 1000, 45678, 1234567, 12.5]
    assert page.evaluate("(ns) => ns.map(I18N.num)", numbers) == [t.number(n) for n in numbers]
    counts = list(range(0, 230))
    assert page.evaluate("(ns) => ns.map(I18N.category)", counts) == [
        formats.plural_category(n, lang) for n in counts
    ]
    lags = [0, 1, 2, 5, 11, 21, 104, 1000]
    assert page.evaluate(
        "(ls) => ls.map((lag) => I18N.tr('auditor.lag', {indexed: '10', head: '12', lag}))", lags
    ) == [t("auditor.lag", indexed="10", head="12", lag=n) for n in lags]
    if lang == "fa":  # the calendar itself, every third day over forty years
        days = [[d.year, d.month, d.day] for d in SAMPLE_DAYS]
        got = page.evaluate("(ds) => ds.map((d) => I18N.fromGregorian(...d))", days)
        want = [list(vars(solarhijri.from_gregorian(d)).values()) for d in SAMPLE_DAYS]
        assert got == want
