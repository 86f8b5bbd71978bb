"""Participant identity and document signatures for the gateway.

Pure library code (no FastAPI, database or chain): the platform CA and participant certificates
(:mod:`.ca`), keys and blobs at rest (:mod:`.keystore`), detached JWS document signatures
(:mod:`.signing`), roles and the document-kind table (:mod:`.roles`), and failure codes
(:mod:`.errors`). See ``docs/identity.md``.
"""

from domain.identity.ca import (
    CertificateAuthority,
    ParticipantIdentity,
    RevocationReason,
    create_ca,
    identity_record_hash,
    load_ca,
    load_certificate,
    participant_from_certificate,
)
from domain.identity.errors import (
    AttachmentMismatchError,
    CertificateProfileError,
    DecryptionError,
    ErrorCode,
    IdentityError,
    SignatureVerificationError,
)
from domain.identity.keystore import (
    ScryptParams,
    decrypt_blob,
    decrypt_private_key,
    derive_blob_key,
    encrypt_blob,
    encrypt_private_key,
)
from domain.identity.signing import (
    ExpectedSigner,
    VerifiedSignature,
    sha256_hex,
    sign_detached,
    verify_attachment,
    verify_detached,
)

__all__ = [
    "AttachmentMismatchError",
    "CertificateAuthority",
    "CertificateProfileError",
    "DecryptionError",
    "ErrorCode",
    "ExpectedSigner",
    "IdentityError",
    "ParticipantIdentity",
    "RevocationReason",
    "ScryptParams",
    "SignatureVerificationError",
    "VerifiedSignature",
    "create_ca",
    "decrypt_blob",
    "decrypt_private_key",
    "derive_blob_key",
    "encrypt_blob",
    "encrypt_private_key",
    "identity_record_hash",
    "load_ca",
    "load_certificate",
    "participant_from_certificate",
    "sha256_hex",
    "sign_detached",
    "verify_attachment",
    "verify_detached",
]
