"""Master.csv lines written the way Asterisk's cdr_csv writes them (PROTOCOLS.md 3a), for the tests."""

FIELDS16 = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
            "start", "answer", "end", "duration", "billsec", "disposition", "amaflags")
INTS = {"duration", "billsec", "sequence"}
DATES = {"start", "answer", "end"}

DEFAULTS = {
    "accountcode": "", "src": "79161234567", "dst": "74951234567", "dcontext": "from-trunk",
    "clid": '"Alice" <79161234567>', "channel": "PJSIP/trunk-00000001", "dstchannel": "PJSIP/101-00000002",
    "lastapp": "Dial", "lastdata": "PJSIP/101,30", "start": "2024-01-15 10:30:00",
    "answer": "2024-01-15 10:30:05", "end": "2024-01-15 10:31:05", "duration": 65, "billsec": 60,
    "disposition": "ANSWERED", "amaflags": "DOCUMENTATION", "uniqueid": "1705314600.1", "userfield": "",
    "peeraccount": "", "linkedid": "1705314600.1", "sequence": 3,
}


def _cell(name: str, value) -> str:
    if name in INTS:
        return str(value)
    if name in DATES and not value:
        return ""  # cdr_csv writes an unset date as an empty, unquoted field
    return '"' + str(value).replace('"', '""') + '"'


def cdr_line(columns: int = 18, **values) -> str:
    """One line (no newline) with `columns` columns: 16, 17 (uniqueid), 18, 19, 20 or 21."""
    v = {**DEFAULTS, **values}
    names = list(FIELDS16)
    if columns in (17, 18, 20, 21):
        names.append("uniqueid")
    if columns in (18, 21):
        names.append("userfield")
    if columns >= 19:
        names += ["peeraccount", "linkedid", "sequence"]
    return ",".join(_cell(n, v[n]) for n in names)


def cdr_file(*lines: str) -> list[bytes]:
    """Lines as the import reads a file: bytes with their newline."""
    return [(line + "\n").encode() for line in lines]
