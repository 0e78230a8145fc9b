"""cPanel's password strength meter: the integer 0–100 that
Cpanel::PasswdStrength::Check::get_password_strength (cPanel 11.120) gives a password, and
that the minimum strengths (minpwstrength, docs/security.md#password-strength) are compared
with.

The steps, in cPanel's order:

* the empty password is 0, one of fewer than 4 bytes is 1;
* 1 when cracklib's FascistCheck refuses it (Debian's libcrack2 with its default dictionary,
  when cracklib-runtime has built it; without it this step is skipped);
* 1 when, lower-cased (ASCII only, as `tr/A-Z/a-z/`), it is a word of a bad-passwords list;
* otherwise the entropy estimate: each byte that neither repeats nor steps ±1 from the one
  before adds log2 of the size of the character classes the password draws from, each byte
  that does adds log2(3); above 70 bits is 100, below it the share of 70 bits, truncated.

cPanel works on the password's bytes (its API arguments are not decoded): so does this module,
on the UTF-8 encoding. Any byte outside cPanel's classes (`@`, `[`, `^`, `_`, non-ASCII, …)
counts every class, as cPanel's does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

MAX_STRENGTH = 100
ENTROPY_THRESHOLD = 70

# The lists cPanel reads (Check.pm get_bad_passwords_ref): the operator's own, then cPanel's
# install's, when gatehouse runs beside one. gatehouse does not carry cPanel's list (its
# licence forbids copying): it ships its own, common_passwords.txt, in its place.
BAD_PASSWORD_FILES: tuple[Path, ...] = (
    Path("/etc/bad_passwords_list"),
    Path("/usr/local/cpanel/etc/bad_passwords_list"),
)

# Character classes, as Check.pm's bits, and the symbols each adds to the alphabet size.
_ARABIC, _A_F, _G_Z, _UA_F, _UG_Z, _SYMBOLS, _OTHER_SYMBOLS, _SPACE = (1 << i for i in range(8))
_CLASS_SIZES = (
    (_ARABIC, 10),
    (_A_F, 6),
    (_G_Z, 20),
    (_UA_F, 6),
    (_UG_Z, 20),
    (_SYMBOLS, 22),
    (_OTHER_SYMBOLS, 4),
    (_SPACE, 1),
)
_EVERY_CLASS = 0xFFFFFFFF
_SYMBOL_BYTES = frozenset(b"!$%&()*+,-./:<=>?`{|}~")  # `,-.` is a range in Perl's tr///
_OTHER_SYMBOL_BYTES = frozenset(b"\"#';")
_ZERO = ord("0")


def _classes(byte: int) -> int:
    if 0x30 <= byte <= 0x39:
        return _ARABIC
    if 0x61 <= byte <= 0x66:
        return _A_F
    if 0x67 <= byte <= 0x7A:
        return _A_F | _G_Z
    if 0x41 <= byte <= 0x46:
        return _UA_F
    if 0x47 <= byte <= 0x5A:
        return _UA_F | _UG_Z
    if byte in _SYMBOL_BYTES:
        return _SYMBOLS
    if byte in _OTHER_SYMBOL_BYTES:
        return _OTHER_SYMBOLS
    if byte == 0x20:
        return _SPACE
    return _EVERY_CLASS


def entropy_strength(raw: bytes) -> int:
    """The entropy part of the meter alone (no length, dictionary or list step)."""
    used = 0
    different = patterned = 0
    last: int | None = None
    for byte in raw:
        # `!$last_character` is also true after a "0" (a false string in Perl): the byte after
        # a zero always counts as a new one. pack('C') wraps, so 0x00 and 0xFF are neighbours.
        neighbours = (byte, (byte - 1) & 0xFF, (byte + 1) & 0xFF)
        if last is None or last == _ZERO or last not in neighbours:
            different += 1
        else:
            patterned += 1
        last = byte
        classes = _classes(byte)
        used = _EVERY_CLASS if classes == _EVERY_CLASS else used | classes
    # (Check.pm's two lines that would widen a-f to a-z when no digit is used never fire:
    # `!$used & $arabic` parses as `(!$used) & $arabic`, which is 0 for a non-empty password.)
    symbol_count = sum(size for bit, size in _CLASS_SIZES if used & bit)
    entropy = different * (math.log(symbol_count) / math.log(2))
    entropy += patterned * (math.log(3) / math.log(2))
    if entropy > ENTROPY_THRESHOLD:
        return MAX_STRENGTH
    return int(MAX_STRENGTH * (entropy / ENTROPY_THRESHOLD))


def password_strength(password: str) -> int:
    """cPanel's strength of a password, 0 to 100."""
    raw = password.encode("utf-8", "surrogatepass")
    if not raw:
        return 0  # "Security policies require this to be 0."
    if len(raw) < 4:
        return 1
    if CRACKLIB.refuses(raw):
        return 1
    if raw.lower() in bad_passwords():
        return 1
    return entropy_strength(raw)


def _words(text: bytes) -> list[bytes]:
    # `split(m{\s}, …)` then only the words with something besides spaces and tabs.
    return text.split()


@functools.cache
def bad_passwords() -> frozenset[bytes]:
    """The words of gatehouse's shipped list and of the lists cPanel reads, read once."""
    words = _words(resources.files("gatehouse").joinpath("data/common_passwords.txt").read_bytes())
    for path in BAD_PASSWORD_FILES:
        try:
            words.extend(_words(path.read_bytes()))
        except OSError:
            continue  # cPanel's load_if_exists: a list that is not there adds nothing
    return frozenset(words)


class Cracklib:
    """Debian's libcrack2 through ctypes: FascistCheck with the default dictionary, as
    Crypt::Cracklib::check calls it. Absent library or dictionary: the check is skipped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # FascistCheck keeps static state between calls
        self._loaded = False
        self._check: Callable[[bytes, bytes], bytes | None] | None = None
        self._dictionary = b""

    def _load(self) -> None:
        self._loaded = True
        name = ctypes.util.find_library("crack")
        if name is None:
            return
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            return
        lib.GetDefaultCracklibDict.restype = ctypes.c_char_p
        lib.FascistCheck.restype = ctypes.c_char_p
        lib.FascistCheck.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        dictionary = lib.GetDefaultCracklibDict() or b""
        # libcrack2 alone has no dictionary (cracklib-runtime builds it): every check would
        # answer "error loading dictionary", which is no verdict on the password.
        if not dictionary or not Path(dictionary.decode() + ".pwd").exists():
            return
        self._dictionary = dictionary
        self._check = lib.FascistCheck

    def available(self) -> bool:
        with self._lock:
            if not self._loaded:
                self._load()
            return self._check is not None

    def refuses(self, raw: bytes) -> bool:
        """Whether cracklib refuses the password (False when cracklib is not here)."""
        if not self.available():
            return False
        # A C string: the password ends at its first NUL, as Perl's XS hands it over.
        word = raw.split(b"\0", 1)[0]
        with self._lock:
            assert self._check is not None
            verdict = self._check(word, self._dictionary)
        return verdict is not None


CRACKLIB = Cracklib()
