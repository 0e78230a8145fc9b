"""What gatehouse reads from a certificate as cPanel's parser does, in process: the validation
type from its CA/Browser Forum policies (Cpanel::SSL::Utils::_determine_x509_validation_type)
and a distinguished name as cPanel lists it (Whostmgr::SSL's Apache TLS record)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from gatehouse.domain import ssl_pem, ssl_vhosts
from ssl_helpers import DAY, _now, make_ca, new_key


def _with_policies(oids: list[str]) -> x509.Certificate:
    ca = make_ca()
    key = new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - DAY)
        .not_valid_after(_now() + DAY)
    )
    if oids:
        policies = [x509.PolicyInformation(x509.ObjectIdentifier(o), None) for o in oids]
        builder = builder.add_extension(x509.CertificatePolicies(policies), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


@pytest.mark.parametrize(
    ("oids", "expected"),
    [
        ([], None),
        (["2.23.140.1.2.1"], "dv"),
        (["2.23.140.1.2.2"], "ov"),
        (["2.23.140.1.1"], "ev"),
        (["1.3.6.1.4.1.44947.1.1.1", "2.23.140.1.2.1"], "dv"),  # the first known one
        (["1.3.6.1.4.1.44947.1.1.1"], None),
    ],
)
def test_validation_type(oids: list[str], expected: str | None) -> None:
    assert ssl_pem.validation_type(_with_policies(oids)) == expected


def test_a_distinguished_name_in_the_certificates_order_with_long_names() -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Let's Encrypt"),
            x509.NameAttribute(NameOID.COMMON_NAME, "R3"),
        ]
    )
    assert ssl_vhosts.dn_pairs(name) == [
        ("countryName", "US"),
        ("organizationName", "Let's Encrypt"),
        ("commonName", "R3"),
    ]
