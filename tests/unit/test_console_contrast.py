"""The console's colours meet WCAG 2.2 AA: 4.5:1 for text on the backgrounds it is shown on
(1.4.3), 3:1 for the focus outline against the backgrounds around it (1.4.11). The colours are
read from lrs_ws/console/static/console.css itself: its `:root` custom properties, and the rules
that colour buttons, the badge and the XML tokens."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "lrs_ws" / "console" / "static" / "console.css"
TEXT = 4.5
NON_TEXT = 3.0
XML_TOKENS = (".xml .nt", ".xml .na", ".xml .s", ".xml .c", ".xml .cp")  # element and attribute names, values, comments, <?xml?>


def _without_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> {property: value}, for the top-level rules (those inside @media left out); a
    rule of several selectors is filed under each."""
    css = _without_comments(css)
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    found: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            found.setdefault(" ".join(selector.split()), {}).update(declarations)
    return found


def variables(css: str) -> dict[str, str]:
    return {name.removeprefix("--"): value for name, value in rules(css)[":root"].items() if name.startswith("--")}


def colour(value: str, palette: dict[str, str]) -> str:
    """A colour as #rrggbb: a hex colour (#rgb too) or var(--name) of the palette."""
    value = value.strip().lower()
    if value.startswith("var("):
        return colour(palette[value[4:-1].strip().removeprefix("--")], palette)
    if value in ("#fff", "white"):
        return "#ffffff"
    match = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value)
    assert match, f"not a colour this test reads: {value!r}"
    digits = match.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def luminance(hex_colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_gives_the_known_ratios():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes on white
    assert contrast("#777777", "#ffffff") < TEXT


def pairs() -> list[tuple[str, str, str, float]]:
    """(what, foreground, background, least ratio) for every pairing the console shows."""
    css = CSS.read_text(encoding="utf-8")
    palette, found = variables(css), rules(css)

    def var(name: str) -> str:
        return colour(palette[name], palette)

    def of(selector: str, prop: str) -> str:
        return colour(found[selector][prop], palette)

    shown = [
        ("ink on paper", var("ink"), var("paper"), TEXT),
        ("ink on band", var("ink"), var("band"), TEXT),
        ("muted on paper", var("muted"), var("paper"), TEXT),
        ("muted on band", var("muted"), var("band"), TEXT),
        ("link on paper", var("link"), var("paper"), TEXT),
        ("link on band", var("link"), var("band"), TEXT),
        ("bad on bad-bg", var("bad"), var("bad-bg"), TEXT),
        ("good on good-bg", var("good"), var("good-bg"), TEXT),
        ("bad on paper (an outcome in a table)", var("bad"), var("paper"), TEXT),
        ("good on paper (an outcome in a table)", var("good"), var("paper"), TEXT),
        ("ink on warn-bg", var("ink"), var("warn-bg"), TEXT),
        ("ink on mark (a marked XML line)", var("ink"), var("mark"), TEXT),
        ("button text on the button blue", of("button", "color"), of("button", "background"), TEXT),
        ("secondary button text on paper", of("button.secondary", "color"), of("button.secondary", "background"), TEXT),
        ("danger button text on bad", of("button", "color"), of("button.danger", "background"), TEXT),
        ("badge text on the badge", of(".badge", "color"), of(".badge", "background"), TEXT),
        ("focus outline next to paper", var("focus"), var("paper"), NON_TEXT),
        ("focus outline next to band", var("focus"), var("band"), NON_TEXT),
    ]
    for token in XML_TOKENS:
        shown.append((f"{token} on band", of(token, "color"), var("band"), TEXT))
        shown.append((f"{token} on mark", of(token, "color"), var("mark"), TEXT))
    return shown


def test_the_colours_the_brief_names_are_those_of_the_css():
    """White on the button blue and on the badge's violet, as the console is styled."""
    by_name = {what: (fg, bg) for what, fg, bg, _ in pairs()}
    assert by_name["button text on the button blue"] == ("#ffffff", "#1f4fbf")
    assert by_name["badge text on the badge"] == ("#ffffff", "#5b21b6")


@pytest.mark.parametrize(("what", "foreground", "background", "least"), pairs(), ids=[p[0] for p in pairs()])
def test_text_contrast_meets_wcag_aa(what, foreground, background, least):
    ratio = contrast(foreground, background)
    assert ratio >= least, f"{what}: {foreground} on {background} is {ratio:.2f}:1, under {least}:1"
