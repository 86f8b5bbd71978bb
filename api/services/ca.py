"""The platform certificate authority, kept in the database with its key sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.models import PlatformSecret
from chain.settings import Settings
from domain.identity import CertificateAuthority, create_ca, load_ca

CA_CERT = "ca_certificate"
CA_KEY = "ca_private_key"
_AAD = b"scf/platform-ca"


def load_or_create_ca(settings: Settings, engine: Engine) -> CertificateAuthority:
    """The CA stored in the database, or a new one stored there (first start). Race-safe."""
    secret = settings.effective_secret_key
    with Session(engine) as session:
        cert = session.get(PlatformSecret, CA_CERT)
        key = session.get(PlatformSecret, CA_KEY)
        if cert is not None and key is not None:
            return load_ca(cert.value, key.value, secret, associated_data=_AAD)
    # backdated a day, so that participant clocks a little behind ours still see valid certificates
    ca = create_ca(
        "SCF Platform Root CA", organization="SCF Platform", not_before=datetime.now(UTC) - timedelta(days=1)
    )
    try:
        with Session(engine) as session:
            session.add(PlatformSecret(name=CA_CERT, value=ca.certificate_pem))
            session.add(
                PlatformSecret(name=CA_KEY, value=ca.export_private_key(secret, associated_data=_AAD))
            )
            session.commit()
    except IntegrityError:  # another worker created it first: use that one
        return load_or_create_ca(settings, engine)
    return ca
