"""Drives the dashboard of a running `recital serve` in Debian's Chromium through Playwright.

Usage: dashboard.py BASE_URL SCREENSHOT_DIR SLOW_BOOK LONG_BOOK
Uploads the two books through the upload page, pauses and unpauses the first and watches its
progress reach 100 % live, cancels the second, then plays the first one's audiobook and seeks in
it. Screenshots of the jobs list and a job page at desktop and phone sizes go to SCREENSHOT_DIR.
Any failed check raises, so the exit status says whether the dashboard works.
"""
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

base, shots, slow_book, long_book = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"]
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(60_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Upload both books at once, with a progress bar each.
    page.goto(base + "/upload")
    page.set_input_files('input[type="file"]', [slow_book, long_book])
    page.select_option('select[name="format"]', "m4b")
    page.click('button[type="submit"]')
    expect(page.locator("#uploads li a")).to_have_count(2)
    links = page.locator("#uploads li a").all()
    first, second = links[0].get_attribute("href"), links[1].get_attribute("href")

    # The jobs list shows both, live.
    page.goto(base + "/")
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("tr[data-job]")).to_have_count(2)
    page.screenshot(path=os.path.join(shots, "jobs-desktop.png"), full_page=True)

    # Cancel the long one from its page (confirming the dialog).
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(base + second)
    page.click('form[action$="/cancel"] button')
    expect(page.locator(".summary [data-field=state]")).to_have_text("cancelled")

    # Pause the first while it runs, see it paused, unpause it, and watch it finish live.
    page.goto(base + first)
    expect(page.locator(".summary [data-field=state]")).to_have_text(re.compile("running|queued"))
    page.click('form[action$="/pause"] button')
    expect(page.locator(".summary [data-field=state]")).to_have_text("paused")
    page.click('form[action$="/unpause"] button')
    expect(page.locator(".summary [data-field=state]")).to_have_text(re.compile("queued|running"))
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator(".summary [data-field=percent]")).to_have_text("100 %", timeout=180_000)
    # The page reloads itself once the job is final and shows the player.
    expect(page.locator(".summary [data-field=state]")).to_have_text("completed", timeout=180_000)
    expect(page.locator("audio")).to_have_count(1)
    page.screenshot(path=os.path.join(shots, "job-desktop.png"), full_page=True)

    # Play and seek: the browser fetches byte ranges of the file.
    played = page.evaluate(
        """async () => {
            const audio = document.querySelector("audio");
            audio.muted = true;
            await new Promise((ok, fail) => {
                if (audio.readyState >= 1) ok();
                audio.addEventListener("loadedmetadata", ok, { once: true });
                audio.addEventListener("error", () => fail(new Error("audio error " + audio.error.code)), { once: true });
            });
            await audio.play();
            const target = Math.min(5, audio.duration / 2);
            audio.currentTime = target;
            await new Promise((ok) => audio.addEventListener("seeked", ok, { once: true }));
            return { duration: audio.duration, position: audio.currentTime, target: target };
        }"""
    )
    assert played["duration"] > 1, played
    assert played["position"] >= played["target"] - 0.5, played

    # The list shows the outcome of both, newest first.
    outcome = {first: "completed", second: "cancelled"}
    sorted_states = [outcome[href] for href in sorted(outcome, key=lambda h: -int(h.rsplit("/", 1)[1]))]
    page.goto(base + "/")
    expect(page.locator("tr[data-job] [data-field=state]")).to_have_text(sorted_states)

    # The same pages on a phone: one column.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(base + "/")
    expect(phone.locator("tr[data-job]")).to_have_count(2)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page is {width} px wide"
    phone.screenshot(path=os.path.join(shots, "jobs-phone.png"), full_page=True)
    phone.goto(base + first)
    phone.screenshot(path=os.path.join(shots, "job-phone.png"), full_page=True)

    assert not errors, errors
    browser.close()
print("dashboard ok")
