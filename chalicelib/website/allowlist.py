"""What a model-written page may contain: known elements and attributes, and where its URLs may point.

Everything not listed here is refused by the review gate (chalicelib/website/html_audit.py): no
scripts but JSON-LD data, no event handlers, no frames, objects, bases, refreshes or raw-text
elements whose parsing differs between Python and browsers. URL attributes take relative URLs,
https:, mailto: and tel: only.
"""

from __future__ import annotations

import re

SECTIONS = {
    "html",
    "head",
    "body",
    "title",
    "meta",
    "link",
    "script",
    "main",
    "header",
    "footer",
    "nav",
    "section",
    "article",
    "aside",
    "search",
    "hgroup",
    "address",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
TEXT = {
    "p",
    "br",
    "hr",
    "wbr",
    "div",
    "span",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "small",
    "mark",
    "abbr",
    "cite",
    "q",
    "dfn",
    "code",
    "kbd",
    "samp",
    "var",
    "sub",
    "sup",
    "time",
    "data",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "menu",
    "del",
    "ins",
    "bdi",
    "bdo",
    "ruby",
    "rt",
    "rp",
    "details",
    "summary",
}
TABLES = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"}
FORMS = {
    "form",
    "fieldset",
    "legend",
    "label",
    "input",
    "button",
    "select",
    "option",
    "optgroup",
    "textarea",
    "output",
    "progress",
    "meter",
    "datalist",
}
MEDIA = {"img", "picture", "source", "svg"}
HTML_ELEMENTS = frozenset(SECTIONS | TEXT | TABLES | FORMS | MEDIA)

GLOBAL_ATTRIBUTES = frozenset(
    {
        "id",
        "class",
        "title",
        "lang",
        "dir",
        "hidden",
        "tabindex",
        "role",
        "translate",
        "spellcheck",
        "accesskey",
        "draggable",
        "inert",
        "itemscope",
        "itemprop",
        "itemtype",
        "itemid",
        "itemref",
        "style",
    }
)
HTML_ATTRIBUTES: dict[str, frozenset[str]] = {
    tag: frozenset(names.split())
    for tag, names in {
        "html": "xmlns prefix",
        "meta": "name content property charset http-equiv",
        "link": "rel href type sizes media hreflang",
        "script": "type",
        "a": "href rel target hreflang type download referrerpolicy",
        "img": "src alt width height loading decoding srcset sizes fetchpriority referrerpolicy",
        "source": "src srcset type media sizes width height",
        "form": "action method enctype accept-charset autocomplete novalidate name target",
        "input": (
            "type name value placeholder required autocomplete min max step pattern maxlength minlength checked "
            "disabled readonly size multiple inputmode list accept"
        ),
        "button": "type name value disabled",
        "select": "name required multiple size autocomplete disabled",
        "option": "value selected disabled label",
        "optgroup": "label disabled",
        "textarea": "name rows cols placeholder required maxlength minlength autocomplete wrap readonly disabled",
        "label": "for",
        "fieldset": "disabled name",
        "output": "for name",
        "progress": "value max",
        "meter": "value min max low high optimum",
        "td": "colspan rowspan headers",
        "th": "colspan rowspan headers scope abbr",
        "col": "span",
        "colgroup": "span",
        "ol": "start reversed type",
        "li": "value",
        "time": "datetime",
        "data": "value",
        "del": "cite datetime",
        "ins": "cite datetime",
        "blockquote": "cite",
        "q": "cite",
        "details": "open name",
    }.items()
}

SVG_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "defs",
        "symbol",
        "use",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "textpath",
        "lineargradient",
        "radialgradient",
        "stop",
        "clippath",
        "mask",
        "pattern",
        "image",
        "a",
        "marker",
    }
)
SVG_ATTRIBUTES = frozenset(
    [
        "id",
        "class",
        "style",
        "lang",
        "tabindex",
        "role",
        "focusable",
        "transform",
        "viewbox",
        "xmlns",
        "xmlns:xlink",
        "version",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "pathlength",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-miterlimit",
        "stroke-opacity",
        "opacity",
        "clip-path",
        "clip-rule",
        "mask",
        "text-anchor",
        "dominant-baseline",
        "alignment-baseline",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "letter-spacing",
        "word-spacing",
        "text-decoration",
        "dx",
        "dy",
        "rotate",
        "textlength",
        "lengthadjust",
        "preserveaspectratio",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientunits",
        "gradienttransform",
        "spreadmethod",
        "fx",
        "fy",
        "fr",
        "patternunits",
        "patterncontentunits",
        "patterntransform",
        "maskunits",
        "maskcontentunits",
        "clippathunits",
        "markerwidth",
        "markerheight",
        "refx",
        "refy",
        "orient",
        "markerunits",
        "marker-start",
        "marker-mid",
        "marker-end",
        "visibility",
        "display",
        "color",
        "vector-effect",
        "shape-rendering",
        "paint-order",
        "href",
        "xlink:href",
        "xml:space",
        "xml:lang",
        "startoffset",
        "method",
        "spacing",
        "side",
    ]
)

# Attributes whose value is a URL (srcset: a list of them). Any other attribute is not fetched.
URL_ATTRIBUTES = frozenset({"href", "src", "action", "cite", "itemtype", "itemid", "xlink:href"})
LINK_RELS = frozenset(
    {
        "stylesheet",
        "icon",
        "shortcut",
        "apple-touch-icon",
        "canonical",
        "alternate",
        "author",
        "license",
        "help",
        "next",
        "prev",
        "manifest",
        "me",
        "privacy-policy",
        "terms-of-service",
    }
)
META_HTTP_EQUIV = frozenset({"content-type", "x-ua-compatible", "content-language"})
# Text-only in browsers (RCDATA): whatever Python would parse as markup in them, a browser does not.
TEXT_ONLY = frozenset({"title", "textarea"})
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
ALLOWED_SCHEMES = ("https", "mailto", "tel")
_IGNORED_IN_URLS = re.compile(r"[\t\n\r]")


def attribute_allowed(tag: str, name: str, svg: bool) -> bool:
    if name.startswith(("aria-", "data-")) and len(name) > 5:
        return True
    if svg:
        return name in SVG_ATTRIBUTES
    return name in GLOBAL_ATTRIBUTES or name in HTML_ATTRIBUTES.get(tag, frozenset())


def url_kind(value: str) -> tuple[str, str | None]:
    """("relative" | "https" | "mailto" | "tel" | "refused", why refused). Reads the URL as a browser
    does: surrounding spaces and control characters dropped, tabs and line breaks removed, \\ as /."""
    url = _IGNORED_IN_URLS.sub(
        "",
        value.strip(
            " \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
            "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
        ),
    )
    url = url.replace("\\", "/")
    match = SCHEME.match(url)
    if match:
        scheme = match.group(1).lower()
        if scheme in ALLOWED_SCHEMES:
            return scheme, None
        return "refused", f"{scheme}: URLs are not allowed (only relative, https:, mailto: and tel:)"
    if url.startswith("//"):
        return "refused", "protocol-relative URLs are not allowed (write https://)"
    return "relative", None


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset (`url [descriptor], url [descriptor]`)."""
    return [part.split()[0] for part in value.split(",") if part.split()]
