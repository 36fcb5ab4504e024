"""IWSLT 2017 TED test sets from the original WIT3 archives (Cettolo et al., 2017), the
"very distant" de-en alignment data of MidAlign §6.2 / Table 5 (App. B, fn. 15).

Layout: ``2017-01-ted-test/texts/{src}/{tgt}/{src}-{tgt}.tgz``, each archive holding
``{src}-{tgt}/IWSLT17.TED.{split}.{src}-{tgt}.{src}.xml`` (mteval XML: ``<doc docid=...>``
with ``<seg id=...>`` children) for ``split`` in ``tst2017`` / ``tst2016``. Only the source
side of each direction is released, but the x->en and en->x archives hold the same talks with
the same segment ids, so pairing them by ``(docid, seg id)`` gives parallel sentences.
"""

from __future__ import annotations

import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

LOCAL_SPLITS = ("tst2017", "tst2016")


def parse_mteval(data: bytes, origin: str) -> dict[tuple[str, str], str]:
    """``{(docid, seg id): text}`` of an mteval XML document, in document order.

    Whitespace is collapsed (WIT3 joins subtitle lines with double spaces). Documents with a
    DTD or entity declarations are refused (no entity expansion), as are duplicate keys and
    empty segments; errors name ``origin``."""
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise ValueError(f"{origin}: refusing XML with a DTD or entity declarations")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise ValueError(f"{origin}: malformed XML ({err})") from None
    out: dict[tuple[str, str], str] = {}
    for doc in root.iter("doc"):
        docid = doc.get("docid")
        for seg in doc.iter("seg"):
            key = (docid, seg.get("id"))
            text = " ".join("".join(seg.itertext()).split())
            if None in key or key in out or not text:
                problem = "missing id" if None in key else "duplicate" if key in out else "empty"
                raise ValueError(f"{origin}: {problem} segment docid={key[0]} id={key[1]}")
            out[key] = text
    if not out:
        raise ValueError(f"{origin}: no <seg> elements")
    return out


def _texts_dir(path: str | Path) -> Path:
    """The ``texts`` folder under ``path`` (``path`` may be it, ``2017-01-ted-test`` or the
    folder holding ``2017-01-ted-test``)."""
    root = Path(path)
    for candidate in (root / "2017-01-ted-test" / "texts", root / "texts", root):
        if candidate.is_dir() and any(candidate.glob("*/*/*.tgz")):
            return candidate
    raise FileNotFoundError(f"no WIT3 archives texts/{{src}}/{{tgt}}/{{src}}-{{tgt}}.tgz under "
                            f"{root}")


def read_wit3(path: str | Path, src: str, tgt: str, split: str) -> dict[tuple[str, str], str]:
    """Segments of the ``src`` side of archive ``src-tgt`` for ``split`` (``tst2017``)."""
    if split not in LOCAL_SPLITS:
        raise ValueError(f"local IWSLT 2017 splits are {LOCAL_SPLITS}, got {split!r} (train and "
                         "dev are on the hub: pass path=None)")
    archive = _texts_dir(path) / src / tgt / f"{src}-{tgt}.tgz"
    if not archive.is_file():
        raise FileNotFoundError(f"no IWSLT 2017 archive for {src}-{tgt}: {archive} does not exist")
    name = f"IWSLT17.TED.{split}.{src}-{tgt}.{src}.xml"
    with tarfile.open(archive, "r:gz") as tar:
        member = next((m for m in tar.getmembers()
                       if m.isfile() and Path(m.name).name == name), None)
        if member is None:
            raise FileNotFoundError(f"{archive} holds no {name}")
        return parse_mteval(tar.extractfile(member).read(), f"{archive}:{member.name}")


def wit3_pairs(path: str | Path, lang: str, split: str = "tst2017") -> list[tuple[str, str, str]]:
    """``(key, lang text, English text)`` for every segment of ``split``, ``key`` being
    ``"docid:segid"``, in the order of the lang->en archive. The two archives must hold the
    same segment ids; otherwise ``ValueError`` names both and an unmatched id."""
    xx = read_wit3(path, lang, "en", split)
    en = read_wit3(path, "en", lang, split)
    if xx.keys() != en.keys():
        odd = next(iter(xx.keys() ^ en.keys()))
        raise ValueError(f"IWSLT 2017 {split}: {lang}-en and en-{lang} archives differ in "
                         f"segment ids ({len(xx)} vs {len(en)}; e.g. docid={odd[0]} id={odd[1]})")
    return [(f"{d}:{s}", text, en[(d, s)]) for (d, s), text in xx.items()]
