"""The Playground's speed in a real browser: epochs per second while it plays (issue 14's target: ≥ 30 on the default
spiral setup), in headless Chromium against ``thetas lab``'s app on 127.0.0.1.

Each data set is chosen by its button on a fresh page (its default setup: the page's network, or the data set's own,
e.g. 8-8 for the spiral), played for ``--seconds``, and read off the page: the epoch counter at the start and the
end (epochs/s), the updates per second, and the training and test accuracy it reached (regression: the training
and test loss). ``spiral:3`` picks 3 classes in the classes menu first; ``plane`` and ``bumps`` the regression
problem. Bounded: every setup stops after its seconds; only 127.0.0.1 is contacted.

    python benchmarks/bench_lab_playground.py [--seconds 20] [--setups spiral,xor,spiral:3,bumps,...] [--json]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

SETUPS = ("spiral", "xor", "circles", "moons", "gaussians", "spiral:3", "gaussians:5", "plane", "bumps")
REGRESSION = ("plane", "bumps")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--setups", default=",".join(SETUPS), help="data sets, by name")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    from lab_support import CHROMIUM, serve
    from playwright.sync_api import sync_playwright

    from thetas._runtime import auto_threads
    from thetas.lab import create_app
    auto_threads(work=0)                                  # as `thetas lab`
    rows = []
    with serve(create_app(autostart=False)) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for setup in args.setups.split(","):
            name, _, classes = setup.partition(":")
            page.goto(f"{url}/playground")                   # a fresh page; the data set's button, as a student
            page.wait_for_function("() => document.querySelector('#neurons canvas') !== null")
            if name in REGRESSION:
                page.select_option("#problem", "regression")
                page.wait_for_function("() => location.hash.includes('problem=regression')")
            page.click(f"#datasets button[data-name={name}]")
            page.wait_for_function(f"() => location.hash.includes('dataset={name}')")
            if classes:
                page.select_option("#classes", classes)
                page.wait_for_function(f"() => location.hash.includes('classes={classes}')")
            page.wait_for_timeout(300)
            page.click("#play")
            page.wait_for_function("() => +document.querySelector('#s-step').textContent > 0")
            e0, t0 = float(page.locator("#s-epoch").inner_text()), time.perf_counter()
            page.wait_for_timeout(args.seconds * 1000)
            e1, t1 = float(page.locator("#s-epoch").inner_text()), time.perf_counter()
            ups = page.locator("#s-ups").inner_text()
            page.click("#play")
            page.wait_for_timeout(300)
            reg = name in REGRESSION
            row = {"setup": setup, "address": page.url.split("#", 1)[1], "seconds": round(t1 - t0, 1),
                   "epochs_per_s": round((e1 - e0) / (t1 - t0), 1), "updates_per_s": int(ups) if ups.isdigit() else None,
                   "steps_per_update": page.locator("#speed").input_value(),
                   "accuracy": None if reg else page.locator("#s-acc").inner_text(),
                   "test_accuracy": None if reg else page.locator("#s-test-acc").inner_text(),
                   "loss": page.locator("#s-loss").inner_text(), "test_loss": page.locator("#s-test-loss").inner_text()}
            rows.append(row)
            if not args.json:
                reached = (f"loss {row['loss']} / test {row['test_loss']}" if reg else
                           f"accuracy {row['accuracy']} / test {row['test_accuracy']}")
                print(f"{setup:12s} {row['epochs_per_s']:6.1f} epochs/s, {row['updates_per_s']} updates/s "
                      f"(steps per update: {row['steps_per_update']}); after {row['seconds']} s: {reached}", flush=True)
        browser.close()
    print(json.dumps({"seconds": args.seconds, "setups": rows}))


if __name__ == "__main__":
    main()
