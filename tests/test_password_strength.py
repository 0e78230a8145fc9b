"""cPanel's password strength meter (gatehouse.password_strength), step by step: the entropy
formula against values cPanel 11.120's Cpanel/PasswdStrength/Check.pm gives (run with Perl,
cracklib and the bad-passwords list left out; the table below), and against a Perl statement
of the formula on generated passwords; then the length, cracklib and list steps."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client_venvs import Unavailable, unavailable
from gatehouse import password_strength as meter
from gatehouse.password_strength import entropy_strength, password_strength
from gatehouse.passwords import generate_password

# Password → get_password_strength of cPanel 11.120's Check.pm, computed by running it under
# Perl with Crypt::Cracklib answering "ok" and no bad-passwords file (so only the formula).
CPANEL_ENTROPY = [
    ("abcd", 10),  # each letter one above the last: 1 new + 3 pattern bytes
    ("aaaa", 10),  # repeats are patterns too
    ("abcdefgh", 22),
    ("zyxwvuts", 22),  # ... and so are steps down
    ("ABCDEFGH", 22),
    ("GHIJKLMN", 22),  # G-Z counts A-F too: 26 symbols either way
    ("abcdef12", 25),
    ("ghijkl12", 28),
    ("AbCdEf12", 46),
    ("0123456789", 27),
    ("1234567890", 27),
    # Perl's `!$last_character` is true after a "0": a byte after a zero is always new.
    ("00000000", 37),
    ("11111111", 20),
    ("01010101", 30),
    ("12121212", 20),
    ("0a0a0a0a", 45),
    ("1a1a1a1a", 45),
    # A byte of no class of cPanel's (`@`, `_`, non-ASCII, NUL, …) counts every class: 89.
    ("a@bc", 30),
    ("ab_cd_ef", 53),
    ("héllo wörld", 100),
    ("пароль123", 100),
    ("\x00\xff\x00\xff", 55),  # 0x00 and 0xFF are neighbours (pack 'C' wraps)
    ("    ", 6),
    ("!!!!", 13),
    ("\"#';\"#';", 21),
    ("password", 49),
    ("12345luggage", 63),
    ("Password1", 70),
    ("P@ssw0rd", 67),
    ("qwertyuiopasdfgh", 94),
    ("Tr0ub4dor&3", 100),
    ("correct horse battery staple", 100),
    ("hunter2hunter2", 100),
    ("Xk9#mQ2!vL7p", 100),
]


@pytest.mark.parametrize(("password", "strength"), CPANEL_ENTROPY)
def test_entropy_formula_as_cpanel(password: str, strength: int) -> None:
    assert entropy_strength(password.encode()) == strength


# The formula in Perl, written for this test (not cPanel's code): it keeps Perl's own
# semantics that the port must reproduce — string truthiness ("0" is false), ord/chr on
# bytes, floating point — and reads hex-encoded passwords, one a line.
PERL_FORMULA = r"""
my @size = (10, 6, 20, 6, 20, 22, 4, 1);
while (my $hex = <STDIN>) {
    chomp $hex;
    my ($used, $new, $pattern, $last) = (0, 0, 0, undef);
    for my $c (split //, pack('H*', $hex)) {
        my $o = ord $c;
        my $near = !$last || ($last ne $c && $last ne chr(($o - 1) & 255)
                              && $last ne chr(($o + 1) & 255));
        $near ? $new++ : $pattern++;
        $last = $c;
        $used |= $c =~ /[0-9]/ ? 1 : $c =~ /[a-f]/ ? 2 : $c =~ /[g-z]/ ? 6
               : $c =~ /[A-F]/ ? 8 : $c =~ /[G-Z]/ ? 24
               : $c =~ m{[!\$%&()*+,\-./:<=>?`\{|\}~]} ? 32 : $c =~ /["#';]/ ? 64
               : $c eq ' ' ? 128 : 0xFFFFFFFF;
    }
    my $alphabet = 0;
    $used & (1 << $_) and $alphabet += $size[$_] for 0 .. 7;
    my $bits = $new * (log($alphabet) / log(2));
    $bits += $pattern * (log(3) / log(2));
    print $bits > 70 ? 100 : int(100 * ($bits / 70)), "\n";
}
"""


def _perl() -> str:
    perl = shutil.which("perl")
    if perl is None:
        unavailable(Unavailable("perl is not installed"))
    assert perl is not None
    return perl


def perl_strengths(passwords: list[bytes]) -> list[int]:
    lines = "".join(p.hex() + "\n" for p in passwords)
    out = subprocess.run(
        [_perl(), "-e", PERL_FORMULA], input=lines, capture_output=True, text=True, check=True
    )
    return [int(n) for n in out.stdout.split()]


def test_perl_statement_gives_cpanels_table() -> None:
    """The Perl statement agrees with cPanel's own values, so it can judge the port below."""
    passwords = [p.encode() for p, _ in CPANEL_ENTROPY]
    assert perl_strengths(passwords) == [s for _, s in CPANEL_ENTROPY]


# Passwords that reach the formula: at least 4 bytes, drawn from all bytes, from one class
# at a time (long runs and patterns), or from the bytes around the class boundaries.
_BOUNDARY = b"/09:@AFGZ[`afgz{ !\"#$'-.,;~\x7f\x00\xff"
passwords = st.one_of(
    st.binary(min_size=4, max_size=48),
    st.text(alphabet="0123456789abcdefxyzABCDEFXYZ", min_size=4, max_size=48).map(str.encode),
    st.lists(st.sampled_from(list(_BOUNDARY)), min_size=4, max_size=48).map(bytes),
    st.text(min_size=4, max_size=24).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(passwords, min_size=1, max_size=60))
def test_formula_matches_perl(batch: list[bytes]) -> None:
    assert [entropy_strength(p) for p in batch] == perl_strengths(batch)


# -- the steps before the formula ----------------------------------------------------------


@pytest.fixture
def no_cracklib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meter.CRACKLIB, "refuses", lambda raw: False)


@pytest.fixture
def operator_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An /etc/bad_passwords_list of the test's (the lists are read once: cache reset)."""
    path = tmp_path / "bad_passwords_list"
    monkeypatch.setattr(meter, "BAD_PASSWORD_FILES", (path,))
    meter.bad_passwords.cache_clear()
    yield path
    meter.bad_passwords.cache_clear()


@pytest.mark.parametrize(
    ("password", "strength"),
    [("", 0), ("a", 1), ("Zq!", 1), ("\u00e9a", 1), ("Zq!8", 36)],
    ids=["empty", "one", "three", "three-bytes", "four"],
)
def test_short_passwords(no_cracklib: None, password: str, strength: int) -> None:
    # Bytes are counted, as cPanel counts them: "éa" is 3 bytes.
    assert password_strength(password) == strength


@pytest.mark.parametrize("password", ["trustno1", "TrustNo1", "1QAZ2WSX"])
def test_shipped_list_rates_1(no_cracklib: None, password: str) -> None:
    """gatehouse's own list (common_passwords.txt), case-insensitively."""
    assert entropy_strength(password.encode()) > 1
    assert password_strength(password) == 1


def test_operator_list_rates_1(no_cracklib: None, operator_list: Path) -> None:
    operator_list.write_text("  first\tzq8#klm2!xvb\n\nZQ8#UPPER \n")
    assert password_strength("ZQ8#KLM2!XVB") == 1
    # As cPanel: the password is lower-cased, the list's words are not.
    assert password_strength("zq8#upper") == entropy_strength(b"zq8#upper")


def test_missing_operator_list_adds_nothing(no_cracklib: None, operator_list: Path) -> None:
    assert password_strength("Xk9#mQ2!vL7p") == 100


def test_generated_passwords_rate_100() -> None:
    assert all(password_strength(generate_password()) == 100 for _ in range(20))


# -- cracklib (Debian's libcrack2 with cracklib-runtime's dictionary) -------------------------


@pytest.fixture
def cracklib() -> meter.Cracklib:
    if not meter.CRACKLIB.available():
        unavailable(Unavailable("cracklib-runtime is not installed (scripts/ensure-test-tools)"))
    return meter.CRACKLIB


@pytest.mark.parametrize("password", ["password1", "12345678", "qwertyui", "abcd"])
def test_cracklib_refusal_rates_1(cracklib: meter.Cracklib, password: str) -> None:
    assert cracklib.refuses(password.encode())
    assert password_strength(password) == 1


def test_cracklib_lets_strong_password_through(cracklib: meter.Cracklib) -> None:
    assert not cracklib.refuses(b"Xk9#mQ2!vL7p")
    assert password_strength("Xk9#mQ2!vL7p") == 100


def test_cracklib_reads_to_first_nul(cracklib: meter.Cracklib) -> None:
    # A C string, as Crypt::Cracklib's XS passes it: what follows a NUL is not seen.
    assert cracklib.refuses(b"password1\x00Xk9#mQ2!vL7p")


@pytest.mark.parametrize(
    "found",
    [lambda name: None, lambda name: "libcrack.so.2"],
    ids=["no-library", "no-dictionary"],
)
def test_without_cracklib_the_check_is_skipped(
    monkeypatch: pytest.MonkeyPatch, found: object
) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", found)
    monkeypatch.setattr(meter, "Path", lambda text: Path("/nonexistent") / text.lstrip("/"))
    fresh = meter.Cracklib()
    assert not fresh.available()
    assert not fresh.refuses(b"password1")
