"""The explain page in headless Chromium: every stage by buttons and by keys, numbers as in the JSON,
for the simple RNN, a GRU and a two-layer LSTM (layer selector, gate buttons, frames, hover); the
layout at 1024 and 1280 px (bounding boxes: no sideways scroll, every control in the window, no
label overlapping another or crossed by an arrow); a trained model's precision; one layer numbering.

Needs Debian's chromium at /usr/bin/chromium (``.ci/run`` installs it) and the ``playwright``
Python package (the ``test`` extra); only a missing Chromium skips.
"""

import json
import math
import re
import shutil
from pathlib import Path

import pytest

import bptt

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TEXT = "hello world hello"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"),
                                reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)")


def fmt(v, f):
    kind, digits = f[0], int(f[1:])
    s = f"{v:.{digits}f}" if kind == "f" else f"{100 * v:.{digits}f}" if kind == "p" else f"{v:.{digits}e}"
    return s[1:] if re.fullmatch(r"-0\.?0*", s) else s


def lookup(data, path):
    for key in path.split("."):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


SHOWN = """() => Array.from(document.querySelectorAll('[data-path]'))
  .filter((e) => e.getClientRects().length > 0)
  .map((e) => [e.dataset.path, e.dataset.fmt, e.dataset.minus || null, e.textContent])"""


def check_numbers(page, data, where):
    """Every number shown as text equals the JSON's value, rounded as the page says it rounds."""
    shown = page.evaluate(SHOWN)
    lr = data["update"]["lrs"][int(page.input_value("#lr"))]
    for path, f, minus, text in shown:
        value = lookup(data, path)
        if minus:                                    # the update: params - lr * grads
            value = value - lr * lookup(data, minus)
        assert text == fmt(value, f), f"{where}: {path} shows {text!r}, JSON says {fmt(value, f)!r}"
    return len(shown)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
    exe = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


def test_every_stage_by_buttons_and_keys(browser, tmp_path):
    model = bptt.SimpleRNN(len(set(TEXT)), 8, len(set(TEXT)), seed=0)
    explanation = bptt.explain(model, TEXT)
    path = explanation.save(tmp_path / "explain.html")
    data = explanation.data
    T = len(TEXT) - 1
    kinds = ["intro"] + [f"fwd.{t}" for t in range(T)] + ["loss"] + [f"bwd.{t}" for t in reversed(range(T))] + ["sum", "update"]
    shots = tmp_path / "screenshots"
    shots.mkdir()

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    stage = lambda: page.get_attribute("#stage-label", "data-stage")
    # By buttons, forward through every stage.
    checked = 0
    for i, kind in enumerate(kinds):
        assert stage() == kind, f"button step {i}"
        checked += check_numbers(page, data, kind)
        page.screenshot(path=str(shots / f"{i:02d}-{kind}.png"))
        if i < len(kinds) - 1:
            page.click("#next")
    assert page.is_disabled("#next") and page.is_disabled("#last")
    assert checked > 500                              # the panels really show numbers
    # By keys, back to the start and forward again; Home and End jump.
    page.locator("body").click(position={"x": 5, "y": 5})
    for i in reversed(range(len(kinds) - 1)):
        page.keyboard.press("ArrowLeft")
        assert stage() == kinds[i], f"ArrowLeft to {i}"
        check_numbers(page, data, kinds[i])
    assert page.is_disabled("#prev")
    for i in range(1, len(kinds)):
        page.keyboard.press("ArrowRight")
        assert stage() == kinds[i], f"ArrowRight to {i}"
    page.keyboard.press("Home"); assert stage() == "intro"
    page.keyboard.press("End"); assert stage() == "update"

    # Another learning rate: the update's numbers follow, and still match the JSON.
    page.select_option("#lr", index=len(data["update"]["lrs"]) - 1)
    check_numbers(page, data, "update, last lr")
    page.screenshot(path=str(shots / "update-large-lr.png"))

    # A step's gradient contribution frames every error it needs: W at step 3 needs steps 3..T.
    page.click("#prev"); page.click("#prev")                 # the last backward stage, t = 1
    assert stage() == "bwd.0"
    page.locator("#net text.click", has_text="W").nth(2).click()
    frames = page.locator('#net rect[stroke-width="2.5"]')
    assert frames.count() == 3 * (T - 2)                     # dL/do, dL/dh, dL/da of steps 3..T
    page.screenshot(path=str(shots / "select-contribution-W3.png"))
    page.locator("#net text.click", has_text="V").nth(2).click()
    assert frames.count() == 1                               # dV(3) needs only dL/do(3)
    # Selecting an error shows the terms it is summed from.
    page.locator('#net g[data-strip="dh.5"] rect').first.click()
    assert frames.count() == 2                               # dL/do(6) and dL/da(7)
    assert "V\u1d40\u2202L/\u2202o(6) + W\u1d40\u2202L/\u2202a(7)" in page.inner_text("#panel")
    check_numbers(page, data, "error selection")
    page.screenshot(path=str(shots / "select-error-dh6.png"))
    page.keyboard.press("Escape")
    assert frames.count() == 0

    # Hover shows the exact value.
    cell = page.locator('#net g[data-strip="dh.5"] rect').nth(2)
    cell.hover()
    tip = page.inner_text("#tip")
    assert float(tip.split("=")[-1]) == data["errors"]["h"][5][2]

    # The lag view.
    page.click("#lag-toggle")
    assert page.is_visible("#lag") and not page.is_visible("#net")
    assert check_numbers(page, data, "lag view") >= 2
    page.screenshot(path=str(shots / "lag-view.png"))
    page.click("#lag-toggle")
    assert page.is_visible("#net")

    assert errors == [], errors
    assert requests == [path.as_uri()], requests          # nothing but the file itself
    assert len(list(shots.glob("*.png"))) == len(kinds) + 4
    page.close()


def open_page(browser, explanation, path):
    """A fresh page on the saved file, collecting console errors and every request."""
    explanation.save(path)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def stage_kinds(T):
    return ["intro"] + [f"fwd.{t}" for t in range(T)] + ["loss"] + [f"bwd.{t}" for t in reversed(range(T))] + ["sum", "update"]


def hover_value(page, selector):
    page.locator(selector).hover()
    return float(page.inner_text("#tip").split("=")[-1])


@pytest.mark.slow      # about 20 s: every stage of both layers, numbers checked at each
def test_a_two_layer_lstm_layer_by_layer(browser, tmp_path):
    V = len(set(TEXT))
    model = bptt.LSTM(V, 6, V, layers=2, seed=0)
    explanation = bptt.explain(model, TEXT)
    data, T = explanation.data, len(TEXT) - 1
    kinds = stage_kinds(T)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page, requests, errors = open_page(browser, explanation, tmp_path / "lstm.html")
    stage = lambda: page.get_attribute("#stage-label", "data-stage")
    frames = page.locator('#net rect[stroke-width="2.5"]')

    # The layer selector lists both layers and starts on the top one.
    assert page.is_visible("#layer") and page.input_value("#layer") == "1"
    assert page.locator("#layer option").count() == 2
    # The top layer, every stage by buttons: every number shown is the JSON's.
    checked = 0
    for i, kind in enumerate(kinds):
        assert stage() == kind, f"button step {i}"
        checked += check_numbers(page, data, f"top layer, {kind}")
        if kind in ("intro", "fwd.2", "bwd.2", "sum"):
            page.screenshot(path=str(shots / f"lstm-top-{kind}.png"))
        if i < len(kinds) - 1:
            page.click("#next")
    assert checked > 1500
    # Backward on the top layer: the error of s(6) needs dL/dh(6) and dL/ds(7) ...
    for _ in range(4):
        page.click("#prev")                                   # update -> sum -> bwd.0 -> bwd.1 -> bwd.2
    assert stage() == "bwd.2"
    page.locator('#net g[data-strip="ds.5"] rect').first.click()
    assert frames.count() == 2
    assert "f(t+1) \u2299 \u2202L/\u2202s(t+1)" in page.inner_text("#panel")
    check_numbers(page, data, "selected ds(6)")
    # ... the error of h(6) needs dL/do(6) and the four gates' dL/da(7); dL/da_f(6) opens the f table.
    page.locator('#net g[data-strip="dh.5"] rect').first.click()
    assert frames.count() == 5
    page.locator('#net g[data-strip="daf.5"] rect').first.click()
    assert frames.count() == 1 and page.get_attribute('.gate-tab[data-gate="1"]', "aria-pressed") == "true"
    check_numbers(page, data, "selected da_f(6)")
    page.screenshot(path=str(shots / "lstm-top-select-daf6.png"))
    page.keyboard.press("Escape")
    # A step's W contribution needs every error of its step and the later ones: at this stage the
    # chips of steps 3..T are shown, the third is step 5's.
    page.locator("#net text.click", has_text="W").nth(2).click()
    assert frames.count() == 7 * (T - 4)                     # dL/do, dh, ds and four gates, steps 5..T
    page.keyboard.press("Escape")
    # Hover: the exact value of the cell state's error, as stored.
    assert hover_value(page, '#net g[data-strip="ds.5"] rect >> nth=2') == data["layers"][1]["errors"]["s"][5][2]
    # Layer 1 reads the h(t) of layer 0.
    assert hover_value(page, '#net g[data-strip="below.1"] rect >> nth=4') == data["layers"][0]["h"][1][4]

    # The bottom layer: its own numbers at every stage, by keys back to the start.
    page.select_option("#layer", "0")
    assert "layer 0 (bottom): U, W, b" in page.inner_text("#panel")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("End")
    for i in reversed(range(len(kinds))):
        assert stage() == kinds[i]
        check_numbers(page, data, f"bottom layer, {kinds[i]}")
        if kinds[i] in ("bwd.2", "fwd.2"):
            page.screenshot(path=str(shots / f"lstm-bottom-{kinds[i]}.png"))
        if i:
            page.keyboard.press("ArrowLeft")
    # Its W contribution needs no readout error: the error reaches it through layer 1.
    page.keyboard.press("End"); page.click("#prev"); page.click("#prev")
    page.locator("#net text.click", has_text="W").nth(2).click()
    assert frames.count() == 6 * (T - 2)
    page.keyboard.press("Escape")
    # Forward, every gate's table: the numbers follow the tab.
    page.keyboard.press("Home"); page.keyboard.press("ArrowRight"); page.keyboard.press("ArrowRight")
    for k, g in enumerate("ifgo"):
        page.click(f'.gate-tab[data-gate="{k}"]')
        assert f"{g} = " in page.inner_text("#panel")
        check_numbers(page, data, f"bottom layer, gate {g}")
    assert hover_value(page, '#net g[data-strip="s.1"] rect >> nth=3') == data["layers"][0]["s"][1][3]
    # The lag view reads the top layer.
    page.click("#lag-toggle")
    assert check_numbers(page, data, "lag view") >= 2
    page.click("#lag-toggle")

    assert errors == [], errors
    assert requests == [(tmp_path / "lstm.html").as_uri()], requests
    page.close()


@pytest.mark.slow      # about 13 s
def test_a_gru_page_every_stage(browser, tmp_path):
    V = len(set(TEXT))
    explanation = bptt.explain(bptt.GRU(V, 8, V, seed=1), TEXT)
    data, T = explanation.data, len(TEXT) - 1
    kinds = stage_kinds(T)
    page, requests, errors = open_page(browser, explanation, tmp_path / "gru.html")
    stage = lambda: page.get_attribute("#stage-label", "data-stage")
    frames = page.locator('#net rect[stroke-width="2.5"]')
    assert not page.is_visible("#layer")                          # one layer: no selector
    for i, kind in enumerate(kinds):
        assert stage() == kind
        for k in range(3) if kind in ("fwd.4", "bwd.4") else ():
            page.click(f'.gate-tab[data-gate="{k}"]')
            check_numbers(page, data, f"{kind}, gate {k}")
        check_numbers(page, data, kind)
        if kind == "bwd.4":
            # dL/da_r(5) is dL/da_n(5) times its local factor: one frame, the n table's error.
            page.locator('#net g[data-strip="dar.4"] rect').first.click()
            assert frames.count() == 1
            page.locator('#net g[data-strip="dh.4"] rect').first.click()
            assert frames.count() == 5                            # do(5), da_r,z,n(6), dh(6)
            assert "z(t+1) \u2299 \u2202L/\u2202h(t+1)" in page.inner_text("#panel")
            page.screenshot(path=str(tmp_path / "gru-bwd-select-dh5.png"))
            page.keyboard.press("Escape")
            assert hover_value(page, '#net g[data-strip="dan.4"] rect >> nth=1') == data["errors"]["a"][4][2 * 8 + 1]
        if i < len(kinds) - 1:
            page.click("#next")
    assert errors == [], errors
    assert requests == [(tmp_path / "gru.html").as_uri()], requests
    page.close()


# ------------------------------------------------------------------ layout at 1024 and 1280 px
# One page per kind, written once for the module: a simple RNN, an LSTM and a GRU, 2-layer stacks,
# and an H = 128 LSTM trained on the text until its errors are small (a trained model's tables).
def trained_lstm(H=128, updates=150):
    from bptt.data import Vocab
    from bptt.train.optim import Adam
    V = len(set(TEXT))
    model = bptt.LSTM(V, H, V, seed=0)
    ids = Vocab.from_text(TEXT).encode(TEXT)
    x, y = ids[:-1, None], ids[1:, None]
    adam = Adam(model.params, 0.01)
    for _ in range(updates):
        adam.step(model.params, model.gradients(x, y).grads)
    assert model.loss(x, y) < 0.05                     # errors of order 1e-3 and below
    return model


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    V = len(set(TEXT))
    models = {"rnn": bptt.SimpleRNN(V, 8, V, seed=0), "lstm": bptt.LSTM(V, 8, V, seed=0),
              "gru": bptt.GRU(V, 8, V, seed=1), "lstm2": bptt.LSTM(V, 6, V, layers=2, seed=0),
              "rnn2": bptt.SimpleRNN(V, 8, V, layers=2, seed=0), "lstm128": trained_lstm()}
    folder = tmp_path_factory.mktemp("layout")
    return {name: bptt.explain(m, TEXT).save(folder / f"{name}.html") for name, m in models.items()}


# Everything a reader could miss at one stage: what sticks out of the viewport, the toolbar's
# geometry, and every pair of SVG labels whose boxes overlap or that an arrow runs through.
LAYOUT = """() => {
  const W = window.innerWidth, H = window.innerHeight, doc = document.documentElement;
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom].map((v) => Math.round(v * 10) / 10); };
  const shown = (e) => e.getClientRects().length > 0;
  const controls = [...document.querySelectorAll('#controls button, #controls select, #controls input')].filter(shown);
  const label = document.getElementById('stage-label'), panel = document.getElementById('panel');
  const svg = [...document.querySelectorAll('#view svg')].find(shown);
  const sr = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].filter((e) => e.textContent.trim() && shown(e))
    .map((e) => ({ s: e.textContent, r: e.getBoundingClientRect() }));
  const lines = [...svg.querySelectorAll('line')].map((e) => e.getBoundingClientRect());
  // Boxes that share more than pad px in both directions; a line is a box of zero width or height.
  const hit = (a, b, pad) => a.left + pad < b.right && b.left + pad < a.right && a.top + pad < b.bottom && b.top + pad < a.bottom;
  const overlaps = [], crossed = [], outside = [];
  texts.forEach((a, i) => {
    if (a.r.left < sr.left - 1 || a.r.right > sr.right + 1) outside.push(a.s);
    for (const b of texts.slice(i + 1)) if (hit(a.r, b.r, 1)) overlaps.push(`${a.s} / ${b.s}`);
    if (svg.id === 'net') for (const l of lines) if (hit(a.r, l, 0.5)) { crossed.push(a.s); break; }
  });
  return { scrollW: doc.scrollWidth, W, H, controls: controls.map((e) => [e.id, ...box(e)]),
           toolbar: box(document.getElementById('controls')), labelClipped: label.scrollWidth > label.clientWidth + 1,
           panel: [...box(panel), panel.scrollWidth, panel.clientWidth], overlaps, crossed, outside };
}"""


def check_layout(page, where):
    got = page.evaluate(LAYOUT)
    W, H = got["W"], got["H"]
    assert got["scrollW"] <= W, f"{where}: the page is {got['scrollW']} px wide in a {W} px window"
    for name, left, top, right, bottom in got["controls"]:
        assert 0 <= left and right <= W and 0 <= top and bottom <= H, \
            f"{where}: #{name} at {left}..{right}, {top}..{bottom} outside the {W} x {H} window"
    assert not got["labelClipped"], f"{where}: the stage label is cut off"
    left, top, right, bottom, scroll_w, client_w = got["panel"]
    assert right <= W and left < W - 300 and top < H - 200, f"{where}: the side panel at {left}..{right}, {top}"
    assert scroll_w <= client_w + 1, f"{where}: the side panel scrolls sideways ({scroll_w} > {client_w})"
    assert not got["overlaps"], f"{where}: labels overlap: {got['overlaps'][:6]}"
    assert not got["crossed"], f"{where}: an arrow runs through {got['crossed'][:6]}"
    assert not got["outside"], f"{where}: labels outside the picture: {got['outside'][:6]}"
    return got


@pytest.mark.parametrize("width,height", [(1024, 768), (1280, 800)])
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "lstm2", "rnn2", "lstm128"])
def test_layout_fits_the_window_at_every_stage(browser, pages, name, width, height):
    """No sideways scroll, every control in the window, a toolbar that keeps its place from stage to
    stage, the side panel and the lag button on screen, and no SVG label overlapping another or
    crossed by an arrow."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(pages[name].as_uri())
    T = len(TEXT) - 1
    stacked = name.endswith("2")
    gates = {"lstm": 4, "gru": 3}.get(name.rstrip("0123456789"), 0)
    first = None
    for layer in ["1", "0"] if stacked else [None]:
        if layer is not None:
            page.select_option("#layer", layer)
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("Home")
        for i, kind in enumerate(stage_kinds(T)):
            where = f"{name} at {width} px, layer {layer}, {kind}"
            # Every stage of a stack (whose toolbar is the widest), a few of the others.
            if stacked or kind in ("intro", "fwd.0", "fwd.2", "loss", "bwd.15", "bwd.2", "bwd.0", "sum", "update"):
                got = check_layout(page, where)
                first = first or got
                # The toolbar neither wraps nor jumps: the same height and the same controls' places.
                assert got["toolbar"] == first["toolbar"], f"{where}: the toolbar moved or wrapped"
                assert got["controls"] == first["controls"], f"{where}: a control moved"
            for k in range(gates) if kind in ("fwd.2", "bwd.2") else ():
                page.click(f'.gate-tab[data-gate="{k}"]')
                check_layout(page, f"{where}, gate {k}")
            page.keyboard.press("ArrowRight")
        assert page.is_visible("#lag-toggle")
        page.click("#lag-toggle")
        check_layout(page, f"{name} at {width} px, layer {layer}, lag view")
        page.click("#lag-toggle")
    assert errors == [], errors
    page.close()


ZEROS = """() => {
  // Numbers shown in the panel's tables and the network's loss row, with the values they stand for.
  const spans = [...document.querySelectorAll('#panel table.nums [data-path], #net [data-path^="losses."]')]
    .filter((e) => e.getClientRects().length > 0);
  return spans.map((e) => [e.dataset.path, e.textContent]);
}"""


def test_a_trained_models_small_numbers_keep_their_digits(browser, pages):
    """On a trained H = 128 model's page, whose errors are of order 1e-3 and below, the tables choose
    their precision from the values they show: few nonzero values read as 0.000."""
    data = json.loads(re.search(r'id="bptt-data">(.*?)</script>', pages["lstm128"].read_text(), re.S).group(1))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(pages["lstm128"].as_uri())
    page.locator("body").click(position={"x": 5, "y": 5})
    shown = {}
    for kind in stage_kinds(len(TEXT) - 1):
        if kind in ("fwd.2", "loss", "bwd.2", "bwd.9", "sum"):
            for k in range(4) if kind != "loss" else [0]:
                if kind != "loss" and kind != "sum":
                    page.click(f'.gate-tab[data-gate="{k}"]')
                check_numbers(page, data, f"{kind}, gate {k}")            # still the JSON's, as rounded
                for path, text in page.evaluate(ZEROS):
                    shown[path] = text
        page.keyboard.press("ArrowRight")
    nonzero = {p: t for p, t in shown.items() if lookup(data, p) != 0}
    as_zero = [p for p, t in nonzero.items() if float(t) == 0]
    assert len(nonzero) > 300
    assert len(as_zero) <= 0.1 * len(nonzero), \
        f"{len(as_zero)} of {len(nonzero)} nonzero numbers read as zero: {as_zero[:8]}"
    page.close()


WORDS = """() => [document.getElementById('controls').innerText, document.getElementById('panel').innerText,
  ...[...document.querySelectorAll('#view svg:not([hidden]) text')].map((e) => e.textContent),
  ...[...document.querySelectorAll('#view svg:not([hidden]) [data-tip]')].map((e) => e.dataset.tip)].join('\\n')"""
SUBSCRIPT = str.maketrans("\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089", "0123456789")


def test_layers_are_numbered_from_0_as_the_parameters_are(browser, pages):
    """Layer l's parameters are U_l<l>, W_l<l>, b_l<l> (layer 0's U, W, b): the selector, the labels,
    the subscripts and the formulas number the layers the same way, on every stage and layer."""
    for name in ("lstm2", "rnn2"):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(pages[name].as_uri())
        assert [o.strip() for o in page.locator("#layer option").all_inner_texts()] == ["1 (top)", "0 (bottom)"]
        for layer in (1, 0):
            page.select_option("#layer", str(layer))
            page.locator("body").click(position={"x": 5, "y": 5})
            page.keyboard.press("Home")
            seen = ""
            for kind in stage_kinds(len(TEXT) - 1):
                if kind in ("intro", "fwd.2", "bwd.2", "sum", "update"):
                    seen += page.evaluate(WORDS)
                    if kind == "bwd.2":
                        page.locator('#net g[data-strip="dh.2"] rect').first.click()   # the selection's formula
                        seen += page.evaluate(WORDS)
                        page.keyboard.press("Escape")
                page.keyboard.press("ArrowRight")
            where = f"{name}, layer {layer}"
            assert {int(n) for n in re.findall(r"\blayers? (\d+)\b", seen)} <= {0, 1}, where
            assert f"layer {layer}" in seen, where
            subscripts = {int(s.translate(SUBSCRIPT)) for s in re.findall(r"[ahs]([\u2080-\u2089]+)\(", seen)}
            assert subscripts <= {0, 1}, (where, subscripts)
            # What the layer above sends: U_l1^T dL/da_1(t), the a of the layer whose U it is.
            sent = re.findall(r"U_l(\d)\u1d40\s*\u2202L/\u2202a([\u2080-\u2089])", seen)
            assert all(u == a.translate(SUBSCRIPT) for u, a in sent), (where, sent)
            if layer == 0:
                assert sent and "input x(t)" in seen and "layer 0 (bottom): U, W, b)" in seen, where
            else:
                assert "input h\u2080(t)" in seen and "layer 1 (top): U_l1, W_l1, b_l1)" in seen, where
        page.close()


def test_one_name_for_the_cell_state_and_a_lag_named_apart_from_k(browser, pages):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(pages["lstm"].as_uri())
    intro = page.evaluate(WORDS)
    assert "s(t) = f \u2299 s(t\u22121) + i \u2299 g" in intro and "h(t) = o \u2299 tanh(s(t))" in intro
    assert "c(t" not in intro                            # the cell state is s(t) everywhere on the page
    page.click("#lag-toggle")
    lag = page.evaluate(WORDS)
    assert "lag k = t \u2212 k" not in lag and "lag t \u2212 k" in lag
    assert "hidden state h(k)" in lag
    page.close()


def test_forward_mode_carries_the_sensitivity_forward_to_the_gradient(browser, tmp_path):
    """The forward-mode view: at every stage its numbers are the JSON's (explain/forward.py: exact
    RTRL beside BPTT); the sensitivity fills as the forward stages reach each step, the backward
    terms as the backward ones do; at the end both sums show the same number; another entry of W
    can be chosen; a stack, which RTRL here does not follow, has no such view."""
    V = len(set(TEXT))
    explanation = bptt.explain(bptt.LSTM(V, 6, V, seed=2), TEXT)
    path, data, T = explanation.save(tmp_path / "lstm.html"), explanation.data, len(TEXT) - 1
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.click("#fwd-toggle")
    assert page.get_attribute("#fwd-toggle", "aria-pressed") == "true"
    assert page.locator("#net").is_hidden() and page.locator("#fwd").is_visible()
    filled = lambda: page.locator('#fwd rect.cell[data-tip^="\u2202"]').count()   # carried-forward cells
    terms = lambda key: page.locator(f'#fwd text[data-path^="forward.{key}.0."]').count()
    rows = 2 * 6                                                       # h and s of 6 units
    checked = 0
    for i in range(2 * T + 4):
        checked += check_numbers(page, data, f"forward mode, stage {i}")
        kind = page.get_attribute("#stage-label", "data-stage")
        if kind.startswith("fwd."):
            t = int(kind.split(".")[1])
            assert filled() == rows * (t + 1) and terms("fwd") == t + 1 and terms("bwd") == 0, kind
        if kind.startswith("bwd."):
            t = int(kind.split(".")[1])
            assert filled() == rows * T and terms("bwd") == T - t, kind
        page.click("#next") if i < 2 * T + 3 else None
    assert checked > 300
    sums = [page.locator(f'#fwd text[data-path="forward.{k}_sum.0"]').text_content() for k in ("fwd", "bwd")]
    assert sums[0] == sums[1] == fmt(data["forward"]["fwd_sum"][0], "e6")
    page.select_option("#fwd-entry", "5")
    check_numbers(page, data, "forward mode, entry 5")
    assert page.locator('#fwd text[data-path="forward.bwd_sum.5"]').count() == 1
    page.click("#fwd-toggle")
    assert page.locator("#net").is_visible() and page.locator("#fwd").is_hidden()
    assert errors == [], errors
    stack = bptt.explain(bptt.LSTM(V, 6, V, layers=2, seed=2), TEXT).save(tmp_path / "stack.html")
    page.goto(stack.as_uri())
    assert page.locator("#fwd-toggle").is_hidden()
    page.close()


# ------------------------------------------------- a bidirectional network and an encoder-decoder
# The W links between columns: forward arrows (grey) carry the state, backward ones (red) the error.
LINKS = """() => [...document.querySelectorAll('#net line[marker-end]')]
  .filter((l) => l.getAttribute('y1') === l.getAttribute('y2'))
  .map((l) => [l.getAttribute('marker-end').includes('arrB') ? 'back' : 'fwd', +l.getAttribute('x1'), +l.getAttribute('x2')])"""


def walk(page, data, where, layout=True):
    """Every stage by keys from Home: numbers as in the JSON, the layout, the stage order."""
    kinds = []
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    n = int(page.get_attribute("#slider", "max")) + 1
    for i in range(n):
        kind = page.get_attribute("#stage-label", "data-stage")
        kinds.append(kind)
        check_numbers(page, data, f"{where}, {kind}")
        if layout:
            check_layout(page, f"{where}, {kind}")
        page.keyboard.press("ArrowRight")
    return kinds


@pytest.mark.slow      # about 15 s: both directions, every stage, numbers and layout at each
def test_a_bidirectional_lstm_both_directions_at_1024_px(browser, tmp_path):
    """Each direction at every stage, at 1024 px: numbers as in the JSON, nothing sticking out; the
    reverse direction runs forward from the last step (its state's arrows point from later to
    earlier steps) and backward from the first (its errors' arrows from earlier to later)."""
    V = len(set(TEXT))
    explanation = bptt.explain(bptt.LSTM(V, 6, V, bidirectional=True, seed=0), TEXT)
    data, T = explanation.data, len(TEXT) - 1
    path = explanation.save(tmp_path / "bi.html")
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    assert [o.strip() for o in page.locator("#layer option").all_inner_texts()] == ["0 forward", "0 reverse"]
    assert page.locator("#lag-toggle").is_hidden() and page.locator("#fwd-toggle").is_hidden()
    assert walk(page, data, "forward direction") == stage_kinds(T)
    page.select_option("#layer", "1")
    kinds = walk(page, data, "reverse direction")
    assert kinds == (["intro"] + [f"fwd.{t}" for t in reversed(range(T))] + ["loss"]
                     + [f"bwd.{t}" for t in range(T)] + ["sum", "update"])
    # Forward in the reverse direction, step 10 of 16: the state runs right to left.
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    assert page.get_attribute("#stage-label", "data-stage") == "fwd.9"
    links = page.evaluate(LINKS)
    assert len(links) == T - 1 and all(kind == "fwd" and x2 < x1 for kind, x1, x2 in links)
    assert "h(t+1)" in page.inner_text("#panel")                   # W h(t+1): the step after in time
    # Backward in the reverse direction, at step 5: its errors have run from step 1 to 5, left to right.
    page.keyboard.press("End")
    for _ in range(2 + T - 5):
        page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#stage-label", "data-stage") == "bwd.4"
    back = [(x1, x2) for kind, x1, x2 in page.evaluate(LINKS) if kind == "back"]
    assert len(back) == 4 and all(x2 > x1 for x1, x2 in back)
    panel = page.inner_text("#panel")
    assert "V\u2190\u1d40 \u2202L/\u2202o(t) + W\u1d40 \u2202L/\u2202a(t\u22121)" in panel
    # dL/dh(5) of the reverse direction needs dL/do(5) and the gates' errors at step 4.
    page.locator('#net g[data-strip="dh.4"] rect').first.click()
    assert page.locator('#net rect[stroke-width="2.5"]').count() == 5
    check_numbers(page, data, "reverse direction, selected dh(5)")
    assert hover_value(page, '#net g[data-strip="ds.4"] rect >> nth=2') == data["layers"][1]["errors"]["s"][4][2]
    # The forward direction's own arrows point left to right.
    page.select_option("#layer", "0")
    page.keyboard.press("Home"); page.keyboard.press("ArrowRight"); page.keyboard.press("ArrowRight")
    assert all(kind == "fwd" and x2 > x1 for kind, x1, x2 in page.evaluate(LINKS))
    assert errors == [], errors
    page.close()


@pytest.mark.slow      # about 8 s
def test_an_encoder_decoder_at_1024_px(browser, tmp_path):
    """The encoder's steps, the context C and the teacher-forced decoder's steps in one row, every
    stage's numbers as in the JSON at 1024 px; dL/dC shown where the decoder hands it to the encoder."""
    explanation = bptt.explain(bptt.Seq2Seq(4, 6, 5, cell="lstm", seed=0), "helo")
    data, Tx = explanation.data, 4
    path = explanation.save(tmp_path / "s2s.html")
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    assert page.locator("#layer").is_hidden() and page.locator("#lag-toggle").is_hidden()
    assert walk(page, data, "seq2seq") == stage_kinds(2 * Tx)
    heads = page.locator("#net text").all_text_contents()
    assert [h for h in heads if h.startswith(("enc ", "dec "))] == [f"enc {i}" for i in range(1, 5)] + [f"dec {i}" for i in range(1, 5)]
    # The inputs: the text, then the start token and the previous targets (the text reversed).
    inputs = page.locator('#net text[y="509"]').all_text_contents()         # the input row, Y.x + 15
    assert inputs == ["input x | y(t\u22121)", *"helo", "\u25b8", *"ole"]
    # The decoder's first step starts from C, shown with its numbers.
    page.keyboard.press("Home")
    for _ in range(Tx + 1):
        page.keyboard.press("ArrowRight")
    assert page.get_attribute("#stage-label", "data-stage") == f"fwd.{Tx}"
    assert page.locator('#panel [data-path^="context.h."]').count() == 6
    assert page.locator('#panel [data-path^="context.s."]').count() == 6
    assert page.locator("#net text", has_text="C").count() >= 1
    # Backward at the encoder's last step: dL/dC, what the decoder sends to the encoder.
    page.keyboard.press("End")
    for _ in range(1 + Tx):
        page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#stage-label", "data-stage") == f"bwd.{Tx - 1}"
    assert "What the decoder sends back to the encoder" in page.inner_text("#panel")
    assert page.locator('#panel [data-path^="dcontext.h."]').count() == 6
    assert page.locator('#panel [data-path^="dcontext.s."]').count() == 6
    check_numbers(page, data, "dL/dC")
    back = [(x1, x2) for kind, x1, x2 in page.evaluate(LINKS) if kind == "back"]
    assert len(back) == Tx and all(x2 < x1 for x1, x2 in back)      # the decoder's links and the context's
    assert errors == [], errors
    page.close()


@pytest.mark.slow      # about 5 s: both layers, every stage, numbers and layout at each
def test_a_two_layer_encoder_decoder_layer_by_layer_at_1024_px(browser, tmp_path):
    """A 2-layer Seq2Seq LSTM at 1024 px, each layer at every stage: numbers as in the JSON, nothing
    sticking out, no console error; layer l's decoder starts from its own context C_l, the
    encoder's layer l's last state, and at the encoder's last step the panel shows dL/dC_l."""
    explanation = bptt.explain(bptt.Seq2Seq(4, 6, 5, cell="lstm", layers=2, seed=0), "helo")
    data, Tx = explanation.data, 4
    path = explanation.save(tmp_path / "s2s2.html")
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    # The layer selector, as for a stack, starts on the top layer.
    assert [o.strip() for o in page.locator("#layer option").all_inner_texts()] == ["1 (top)", "0 (bottom)"]
    assert page.input_value("#layer") == "1" and page.locator("#lag-toggle").is_hidden()
    for layer in ("1", "0"):
        page.select_option("#layer", layer)
        l = int(layer)
        assert walk(page, data, f"seq2seq layer {layer}") == stage_kinds(2 * Tx)
        # The decoder's first step starts from C_l, this layer's own context, shown with its numbers.
        page.keyboard.press("Home")
        for _ in range(Tx + 1):
            page.keyboard.press("ArrowRight")
        assert page.get_attribute("#stage-label", "data-stage") == f"fwd.{Tx}"
        panel = page.inner_text("#panel")
        C = "C" + "\u2080\u2081"[l]                                   # C with its layer as a subscript
        assert f"The context {C}: the last state of the encoder's layer {l}" in panel
        assert f"(decoder, layer {l}" in panel and f"dec_W{'_l1' if l else ''}" in panel
        for n in ("h", "s"):
            assert page.locator(f'#panel [data-path^="layers.{l}.context.{n}."]').count() == 6
        assert page.locator('#panel [data-path^="context."]').count() == 0
        # Backward at the encoder's last step: dL/dC_l, what the decoder's layer l sends back.
        page.keyboard.press("End")
        for _ in range(1 + Tx):
            page.keyboard.press("ArrowLeft")
        assert page.get_attribute("#stage-label", "data-stage") == f"bwd.{Tx - 1}"
        assert f"What the decoder's layer {l} sends back to the encoder's layer {l}" in page.inner_text("#panel")
        for n in ("h", "s"):
            assert page.locator(f'#panel [data-path^="layers.{l}.dcontext.{n}."]').count() == 6
        check_numbers(page, data, f"layer {l}, dL/dC")
        # The strips' exact values are this layer's: an error of the encoder's last state.
        assert hover_value(page, f'#net g[data-strip="ds.{Tx - 1}"] rect >> nth=2') == data["layers"][l]["errors"]["s"][Tx - 1][2]
    # Layer 1 reads the h(t) of layer 0: the encoder's in the encoder's columns, the decoder's in the decoder's.
    page.select_option("#layer", "1")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("End")
    for t in (1, Tx + 2):
        assert hover_value(page, f'#net g[data-strip="below.{t}"] rect >> nth=3') == data["layers"][0]["h"][t][3]
    assert errors == [], errors
    page.close()


@pytest.mark.parametrize("name", [pytest.param("gru2-bidirectional", marks=pytest.mark.slow),   # about 5 s
                                  "rnn-seq2seq", "gru-seq2seq", "gru3-seq2seq"])
def test_other_cells_bidirectional_and_seq2seq_pages_at_a_few_stages(browser, tmp_path, name):
    """The other cells' pages at 1024 px: no console error, numbers as in the JSON at a few
    stages of every shown layer (a 2-layer stack reads both directions of the layer below; a
    3-layer encoder-decoder's every layer)."""
    V = len(set(TEXT))
    model = (bptt.GRU(V, 5, V, layers=2, bidirectional=True, seed=1) if name.startswith("gru2")
             else bptt.Seq2Seq(4, 5, 5, cell=name.split("-")[0].rstrip("3"), layers=3 if "3" in name else 1, seed=1))
    explanation = bptt.explain(model, TEXT if name.startswith("gru2") else "helo")
    data = explanation.data
    page, requests, errors = open_page(browser, explanation, tmp_path / "page.html")
    page.set_viewport_size({"width": 1024, "height": 768})
    entries = page.eval_on_selector_all("#layer option", "os => os.map((o) => o.value)") if page.is_visible("#layer") else [None]
    n = int(page.get_attribute("#slider", "max")) + 1
    for entry in entries:
        if entry is not None:
            page.select_option("#layer", entry)
        for i in (0, 2, n // 2, n // 2 + 3, n - 2, n - 1):             # by the slider
            page.evaluate(f"(() => {{ const s = document.getElementById('slider'); s.value = {i}; "
                          f"s.dispatchEvent(new Event('input')); }})()")
            check_numbers(page, data, f"{name}, {entry}, stage {i}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    if name.startswith("gru2"):
        page.select_option("#layer", "2")                             # layer 1 forward reads [h0 forward; h0 reverse]
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("End")
        assert hover_value(page, '#net g[data-strip="below.3"] rect >> nth=6') == data["layers"][1]["h"][3][1]
    assert errors == [], errors
    assert requests == [(tmp_path / "page.html").as_uri()], requests
    page.close()
