"""A room played in a real browser: three phones and the projector, against the room server that
``room start`` runs on the embedded AWS, through the deployed consumer and winner API.

Three phone-sized participants join from the join address; the merchant adds a product; the
photographer, waiting on their page, sees it assigned and sends a phone photo that carries its GPS
position (the room keeps none of it); the customer finds it by category and buys it; the projector,
open all along and never reloaded, shows the merchant and the photographer leading, as the consumer
counted them and as the room log says. Screenshots of every screen go to artifacts/.
"""

import io

import pytest
from browsers import PHONE, screenshot, wait_for
from PIL import Image
from room_players import photo_with_gps, room_on

from hello_winners.room import control


@pytest.fixture(scope="module")
def room_server(embedded_server):
    with room_on("test-room-play") as room:
        yield room


pytestmark = pytest.mark.embedded


@pytest.fixture
def contexts(chromium):
    opened = []

    def context(**options):
        made = chromium.new_context(**options)
        opened.append(made)
        return made.new_page()

    yield context
    for made in opened:
        made.close()


def join(page, join_url, name, role):
    page.goto(join_url)
    page.get_by_label("Your name, as the room will see it").fill(name)
    page.get_by_label(role).check()
    page.get_by_role("button", name="Join").click()
    page.wait_for_url("**/me")


def test_three_phones_and_the_projector_play_a_round(room_server, contexts, tmp_path):
    _, config, base = room_server
    join_url = f"{base}/join?code={config.code}"
    projector = contexts(viewport={"width": 1920, "height": 1080})
    projector.goto(f"{base}/projector?token={config.instructor_token}")
    assert projector.url == f"{base}/projector"  # the token has left the address bar
    assert projector.locator("#code").text_content() == config.code and projector.locator(".qr svg").count() == 1
    wait_for(projector, "document.body.dataset.log !== undefined")
    projector.evaluate("window.sameDocument = true")

    merchant, photographer, customer = (contexts(**PHONE) for _ in range(3))
    join(merchant, join_url, "Ana", "merchant")
    join(photographer, join_url, "Bo", "photographer")
    join(customer, join_url, "Cy", "customer")
    assert merchant.locator("input[name=code]").count() == 0
    photographer.goto(f"{base}/photographer")
    assert "Nothing to photograph yet" in photographer.text_content("#assignment")
    screenshot(photographer, "room-photographer-waiting.png")

    merchant.goto(f"{base}/merchant")
    merchant.get_by_label("Name").fill("Trail Boot")
    merchant.get_by_label("Brand").fill("Northwind")
    merchant.get_by_label("Description").fill("A boot for wet trails.")
    merchant.get_by_label("Category").select_option("Shoes")
    merchant.get_by_role("button", name="Add to the shop").click()
    merchant.wait_for_selector("text=Added")
    screenshot(merchant, "room-merchant.png")

    # The photographer's open page learns of the assignment by itself.
    photographer.wait_for_selector("#assignment h2.name", timeout=15_000)
    assert photographer.text_content("#assignment h2.name") == "Trail Boot"
    original = photo_with_gps((2000, 1500))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    photographer.set_input_files("input[type=file]", {"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                                       "buffer": original})
    photographer.get_by_role("button", name="Send the photo").click()
    photographer.wait_for_selector("img.thumb")
    screenshot(photographer, "room-photographer-sent.png")
    stored = list((control.folder() / "photos").glob("*.jpg"))
    assert len(stored) == 1
    kept = Image.open(stored[0])
    assert not kept.getexif() and not kept.getexif().get_ifd(0x8825) and max(kept.size) == 1024
    assert b"PhoneMaker" not in stored[0].read_bytes() and b"secret note" not in stored[0].read_bytes()

    customer.goto(f"{base}/shop")
    customer.get_by_role("link", name="Shoes").click()
    customer.get_by_role("link", name="Trail Boot").click()
    assert customer.locator("img.photo").evaluate("img => img.complete && img.naturalWidth > 0")
    customer.get_by_role("button", name="Buy").click()
    customer.wait_for_selector("text=Bought")
    screenshot(customer, "room-customer.png")

    leaders = "role => [...document.querySelectorAll(`#consumer .board[data-role=${role}] .row.leader .name`)].map(n => n.textContent)"
    # One message may count the sale before its boards hold it (both boards empty, so they "agree"): wait for
    # the boards that show it, as the room does.
    wait_for(projector, "document.getElementById('status').classList.contains('agree') && "
                        "document.querySelector('[data-count=sales]').textContent === '1' && "
                        f"({leaders})('merchant').join() === 'Ana'", timeout=60)
    assert projector.evaluate(f"({leaders})('merchant')") == ["Ana"]
    assert projector.evaluate(f"({leaders})('photographer')") == ["Bo"]
    assert projector.evaluate("window.sameDocument") is True  # live, without a reload
    assert projector.text_content("[data-count=participants]") == "3"
    projector.wait_for_timeout(500)
    screenshot(projector, "room-projector.png")
