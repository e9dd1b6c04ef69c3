"""Controlled description codes for missing persons and remains, in the manner of NamUs.

A code is ``category:value`` (``hair:black``, ``tattoo:forearm-left``). Free text varies with
who writes it; codes compare. Some categories are *exclusive* (one hair colour, one eye
colour): two different known values conflict. The others are *marks* (tattoos, scars, dental
work, clothing): a shared mark is evidence, a mark seen on one side only is not a conflict
(it may not have been observed or reported).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from binational.core.errors import InvalidInput

EXCLUSIVE: dict[str, dict[str, tuple[str, str]]] = {
    "hair": {
        "black": ("black", "negro"),
        "brown": ("brown", "castaño"),
        "blond": ("blond", "rubio"),
        "red": ("red", "pelirrojo"),
        "gray": ("gray", "cano"),
        "bald": ("bald", "calvo"),
    },
    "eyes": {
        "brown": ("brown", "café"),
        "black": ("black", "negro"),
        "green": ("green", "verde"),
        "blue": ("blue", "azul"),
        "hazel": ("hazel", "miel"),
        "gray": ("gray", "gris"),
    },
    "build": {
        "thin": ("thin", "delgada"),
        "medium": ("medium", "media"),
        "heavy": ("heavy", "robusta"),
    },
}

_BODY = {
    "head": ("head", "cabeza"),
    "face": ("face", "cara"),
    "neck": ("neck", "cuello"),
    "chest": ("chest", "pecho"),
    "abdomen": ("abdomen", "abdomen"),
    "back": ("back", "espalda"),
    "arm-left": ("left arm", "brazo izquierdo"),
    "arm-right": ("right arm", "brazo derecho"),
    "forearm-left": ("left forearm", "antebrazo izquierdo"),
    "forearm-right": ("right forearm", "antebrazo derecho"),
    "hand-left": ("left hand", "mano izquierda"),
    "hand-right": ("right hand", "mano derecha"),
    "leg-left": ("left leg", "pierna izquierda"),
    "leg-right": ("right leg", "pierna derecha"),
}

MARKS: dict[str, dict[str, tuple[str, str]]] = {
    "tattoo": dict(_BODY),
    "scar": dict(_BODY),
    "dental": {
        "gold-crown-upper": ("gold crown, upper", "corona de oro superior"),
        "gold-crown-lower": ("gold crown, lower", "corona de oro inferior"),
        "missing-incisor": ("missing incisor", "incisivo ausente"),
        "braces": ("braces", "brackets"),
        "denture": ("denture", "prótesis dental"),
        "filling-amalgam": ("amalgam filling", "amalgama"),
    },
    "clothing": {
        "jeans-blue": ("blue jeans", "pantalón de mezclilla azul"),
        "shirt-white": ("white shirt", "camisa blanca"),
        "shirt-black": ("black shirt", "camisa negra"),
        "jacket-black": ("black jacket", "chamarra negra"),
        "boots": ("boots", "botas"),
        "sneakers": ("sneakers", "tenis"),
        "cap": ("cap", "gorra"),
        "dress": ("dress", "vestido"),
    },
    "implant": {
        "hip": ("hip prosthesis", "prótesis de cadera"),
        "knee": ("knee prosthesis", "prótesis de rodilla"),
        "plate": ("surgical plate", "placa quirúrgica"),
        "pacemaker": ("pacemaker", "marcapasos"),
    },
}

# Weight of a shared mark by category: implants and dental work carry serial-like evidence.
MARK_WEIGHT = {"tattoo": 3.0, "scar": 2.0, "dental": 3.0, "implant": 4.0, "clothing": 1.0}

MARK_CODES: list[str] = [f"{c}:{v}" for c, vals in MARKS.items() for v in vals]
MARK_INDEX = {code: i for i, code in enumerate(MARK_CODES)}
EXCLUSIVE_INDEX = {cat: {v: i + 1 for i, v in enumerate(vals)} for cat, vals in EXCLUSIVE.items()}


CATEGORY_LABELS = {
    "hair": ("hair", "cabello"),
    "eyes": ("eyes", "ojos"),
    "build": ("build", "complexión"),
    "tattoo": ("tattoo", "tatuaje"),
    "scar": ("scar", "cicatriz"),
    "dental": ("dental", "dental"),
    "clothing": ("clothing", "ropa"),
    "implant": ("implant", "implante"),
}


@cache
def label(code: str) -> dict[str, str]:
    cat, _, val = code.partition(":")
    names = (EXCLUSIVE.get(cat) or MARKS.get(cat) or {}).get(val)
    if names is None:
        return {"en": code, "es": code}
    cen, ces = CATEGORY_LABELS[cat]
    return {"en": f"{cen}: {names[0]}", "es": f"{ces}: {names[1]}"}


def check_codes(codes: Iterable[str], where: str = "") -> list[str]:
    """Normalise and validate codes; an unknown one is an error naming the valid choices."""
    out: list[str] = []
    seen_exclusive: dict[str, str] = {}
    for raw in codes:
        code = raw.strip().lower()
        if not code:
            continue
        cat, sep, val = code.partition(":")
        if not sep:
            raise InvalidInput(f"{where}code {raw!r} must be category:value")
        if cat in EXCLUSIVE:
            if val not in EXCLUSIVE[cat]:
                raise InvalidInput(
                    f"{where}unknown {cat} {val!r}; expected one of: {', '.join(EXCLUSIVE[cat])}"
                )
            if cat in seen_exclusive and seen_exclusive[cat] != val:
                raise InvalidInput(f"{where}two values for {cat}: {seen_exclusive[cat]}, {val}")
            seen_exclusive[cat] = val
        elif cat in MARKS:
            if val not in MARKS[cat]:
                raise InvalidInput(
                    f"{where}unknown {cat} {val!r}; expected one of: {', '.join(MARKS[cat])}"
                )
        else:
            cats = ", ".join([*EXCLUSIVE, *MARKS])
            raise InvalidInput(f"{where}unknown code category {cat!r}; expected one of: {cats}")
        if code not in out:
            out.append(code)
    return out
