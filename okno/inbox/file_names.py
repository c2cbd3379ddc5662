"""A file name a sender gave, as text a person reads: never a path, never a control character."""

import posixpath
import unicodedata

NAME_CHARS = 200


def display_file_name(raw: str) -> str:
    """A sender's file name as text for people: "../../etc/passwd" is "passwd", "a\\b.pdf" is "b.pdf".

    Control characters (Unicode category C) go: line breaks and tabs become a space, NUL and
    format characters (right-to-left overrides that make "cod\u202egpj.exe" read "codexe.jpg",
    zero widths) are dropped; whitespace runs become one space, leading dots go
    (no hidden "..name"), and the name is cut to NAME_CHARS keeping its extension. "" when
    nothing is left.
    """
    text = unicodedata.normalize("NFC", str(raw or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Line breaks and tabs part words; format characters (direction overrides, zero widths) just go.
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text
                   if not unicodedata.category(ch).startswith("C") or unicodedata.category(ch) == "Cc")
    text = " ".join(text.split()).lstrip(". ")
    if len(text) > NAME_CHARS:
        stem, ext = posixpath.splitext(text)
        ext = ext if len(ext) <= 16 else ""
        text = stem[:NAME_CHARS - len(ext)] + ext
    return text
