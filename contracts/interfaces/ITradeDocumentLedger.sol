// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice Kind of an organisation admitted by the consortium. The kind decides what its keys may do.
enum OrgKind {
    None,
    Exporter,
    IssuingBody,
    Customs,
    Auditor
}

/// @notice Lifecycle of a registered document.
enum DocStatus {
    None,
    Registered,
    Revoked,
    Superseded
}

/// @notice What a customs office says about a document.
enum Verdict {
    None,
    Verified,
    Cleared,
    Held,
    Rejected
}

/// @notice An organisation admitted by the consortium. Its name travels in storage so that
/// anyone can show who issued a document from the chain alone.
struct Organisation {
    string name;
    bytes2 country; // ISO 3166-1 alpha-2, e.g. "KZ"
    OrgKind kind;
}

/// @notice A signing key of an organisation and the window in which it may act (one slot).
/// `nonce` counts the key's relayed (EIP-712) requests (or was raised by the key to cancel
/// requests it signed). `retired` is set by {retireKey}: a retired key can no longer act, and
/// its window ends one second after the retirement, so what it did in that second stays valid.
struct KeyInfo {
    uint32 orgId;
    OrgKind kind;
    uint40 validFrom;
    uint40 validUntil;
    uint64 nonce;
    bool retired;
}

/// @notice A document record (one slot). The CID, consignment reference and metadata CID are
/// only in the events. A CID travels as its 4-byte prefix (version 1, codec, sha2-256, length
/// 32: 0x01551220 raw or 0x01701220 dag-pb) and its 32-byte digest: the binary CID is their
/// concatenation.
struct Document {
    address issuer;
    uint40 registeredAt;
    uint16 docType; // UN/EDIFACT 1001 document name code
    DocStatus status;
}

/// @notice A Merkle root anchoring many documents at once (one slot). `revoked` is set by
/// {revokeBatch}: every member is revoked with it.
struct Batch {
    address issuer;
    uint40 anchoredAt;
    uint32 size;
    bool revoked;
}

/// @notice One document of a batch: the fields its Merkle leaf commits to.
struct BatchMember {
    bytes32 fingerprint;
    uint16 docType;
    bytes4 cidPrefix;
    bytes32 cidDigest;
    string consignmentRef;
}

/// @notice A customs attestation (one slot); its document and reference are in the event.
struct Attestation {
    address attester;
    uint40 attestedAt;
    Verdict verdict;
    bool revoked;
}

/// @notice A registration signed by an exporter's key and relayed by anyone (EIP-712).
struct RegisterRequest {
    address issuer;
    bytes32 fingerprint;
    uint16 docType;
    bytes4 cidPrefix;
    bytes32 cidDigest;
    string consignmentRef;
    bytes metadataCid;
    uint64 nonce;
    uint40 deadline;
}

/// @title Trade Document Ledger
/// @notice Notarises trade documents by their SHA-256 fingerprint: registration (single,
/// batched under a Merkle root, or relayed from an EIP-712 signature), revocation,
/// supersession and customs attestations, by keys of organisations the consortium admitted.
interface ITradeDocumentLedger {
    // ---------------------------------------------------------------- events

    /// @notice The admin admitted an organisation.
    event OrganisationAdmitted(uint32 indexed orgId, OrgKind kind, bytes2 country, string name);

    /// @notice The admin gave an organisation a key valid in [validFrom, validUntil).
    event KeyAdded(address indexed key, uint32 indexed orgId, uint40 validFrom, uint40 validUntil);

    /// @notice The admin retired a key: it can no longer act, and its window ends at `retiredAt`
    /// (one second after the retirement's block time, so what it did in that block stays valid).
    event KeyRetired(address indexed key, uint32 indexed orgId, uint40 retiredAt);

    /// @notice A key raised its relay nonce from `oldNonce` to `newNonce`, cancelling every
    /// signed request with a nonce in between.
    event NonceIncreased(address indexed key, uint64 oldNonce, uint64 newNonce);

    /// @notice A document was registered by `issuer` (a key).
    event DocumentRegistered(
        bytes32 indexed fingerprint,
        address indexed issuer,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string consignmentRef
    );

    /// @notice A registered document carries a metadata document (emitted only when one is given).
    event DocumentMetadataAnchored(bytes32 indexed fingerprint, bytes metadataCid);

    /// @notice A registration was relayed from the issuer's signed request with this nonce.
    event RegistrationRelayed(bytes32 indexed fingerprint, address indexed issuer, uint64 nonce);

    /// @notice A batch of `size` documents was anchored under a Merkle root.
    event BatchAnchored(bytes32 indexed root, address indexed issuer, uint32 size, bytes manifestCid);

    /// @notice A member of a batch was recorded as an individual document, with the fields its
    /// Merkle leaf commits to (the consignment reference is in the call's data and the manifest).
    event BatchMemberRecorded(
        bytes32 indexed fingerprint, bytes32 indexed root, uint16 docType, bytes4 cidPrefix, bytes32 cidDigest
    );

    /// @notice A whole batch was revoked by `by` (a key of its issuing organisation, or the admin):
    /// every member, recorded or not, is revoked with it.
    event BatchRevoked(bytes32 indexed root, address indexed by, uint8 reason);

    /// @notice A document was revoked by `by` (a key of its issuing organisation, or an admin).
    event DocumentRevoked(bytes32 indexed fingerprint, address indexed by, uint8 reason);

    /// @notice `oldFingerprint` was replaced by the amended `newFingerprint`.
    event DocumentSuperseded(bytes32 indexed oldFingerprint, bytes32 indexed newFingerprint, address indexed by);

    /// @notice A customs key recorded an attestation about a document.
    event AttestationRecorded(
        bytes32 indexed id, bytes32 indexed fingerprint, address indexed attester, Verdict verdict, string customsRef
    );

    /// @notice An attestation was revoked by a key of the attesting organisation.
    event AttestationRevoked(bytes32 indexed id, address indexed by);

    // ---------------------------------------------------------------- errors

    /// @notice `key` was never admitted.
    error UnknownKey(address key);
    /// @notice `key` is outside its validity window [validFrom, validUntil) at this time.
    error KeyNotValid(address key, uint40 validFrom, uint40 validUntil);
    /// @notice `key` belongs to an organisation of a kind that may not do this.
    error WrongOrganisationKind(address key, OrgKind kind);
    /// @notice `key` is not of the organisation that owns the record.
    error NotOwningOrganisation(address key, uint32 orgId);
    /// @notice `key` was already admitted (keys are never reassigned).
    error KeyAlreadyAdmitted(address key);
    /// @notice The validity window starts at zero (say when it starts), is empty, or ends in the past.
    error InvalidValidityWindow(uint40 validFrom, uint40 validUntil);
    /// @notice A nonce may only go up: `given` is not above the key's current nonce.
    error NonceNotIncreased(address key, uint64 current, uint64 given);
    /// @notice No organisation has this id.
    error UnknownOrganisation(uint32 orgId);
    /// @notice The organisation's name is empty or its kind is None.
    error InvalidOrganisation();
    /// @notice Not an ISO 3166-1 alpha-2 code (two capital letters).
    error InvalidCountry(bytes2 country);
    /// @notice Fingerprint zero, document type zero, or a CID prefix that is not CIDv1 with a 32-byte digest.
    error InvalidDocument(bytes32 fingerprint);
    /// @notice The fingerprint is already registered.
    error DocumentAlreadyRegistered(bytes32 fingerprint, address issuer, uint40 registeredAt);
    /// @notice No document has this fingerprint.
    error UnknownDocument(bytes32 fingerprint);
    /// @notice The document is revoked or superseded and cannot change again.
    error DocumentNotActive(bytes32 fingerprint, DocStatus status);
    /// @notice Root zero, size zero, or root already anchored.
    error InvalidBatch(bytes32 root);
    /// @notice No batch has this root.
    error UnknownBatch(bytes32 root);
    /// @notice The batch is revoked: its members cannot be recorded, and it cannot be revoked again.
    error BatchIsRevoked(bytes32 root);
    /// @notice The Merkle proof does not place this member in the batch.
    error InvalidMerkleProof(bytes32 root, bytes32 fingerprint);
    /// @notice The signed request's deadline has passed.
    error RequestExpired(uint40 deadline);
    /// @notice The signed request's nonce is not the key's next nonce (a replay or a gap).
    error InvalidNonce(address issuer, uint64 expected, uint64 given);
    /// @notice The signature was not made by the request's issuer key.
    error InvalidSignature(address issuer, address recovered);
    /// @notice Verdict None is not a verdict.
    error InvalidVerdict();
    /// @notice The same attestation (same document, key, verdict, customsRef and second) exists.
    error AttestationAlreadyRecorded(bytes32 id);
    /// @notice No attestation has this id.
    error UnknownAttestation(bytes32 id);
    /// @notice The attestation is already revoked.
    error AttestationAlreadyRevoked(bytes32 id);

    // ---------------------------------------------------------------- organisations and keys

    /// @notice Admits an organisation. Only the consortium admin.
    /// @dev Emits {OrganisationAdmitted}. Reverts {InvalidOrganisation}, {InvalidCountry}.
    /// @return orgId the new organisation's id (from 1)
    function admitOrganisation(string calldata name, bytes2 country, OrgKind kind) external returns (uint32 orgId);

    /// @notice Gives organisation `orgId` a signing key valid in [validFrom, validUntil). Only the admin.
    /// `validFrom` must be given (not zero), before `validUntil`, and `validUntil` in the future.
    /// @dev Emits {KeyAdded}. Reverts {UnknownOrganisation}, {KeyAlreadyAdmitted}, {InvalidValidityWindow}.
    function addKey(uint32 orgId, address key, uint40 validFrom, uint40 validUntil) external;

    /// @notice Retires a key: it cannot act any more, and its window ends one second after this
    /// block's time, so everything it did before, in this block included, stays valid. Only the admin.
    /// @dev Emits {KeyRetired}. Reverts {UnknownKey}, {KeyNotValid} if already retired or out of its window.
    function retireKey(address key) external;

    /// @notice Raises the caller's relay nonce to `newNonce`, cancelling every request it signed
    /// with a lower nonce that was not relayed yet. Any admitted key, even retired.
    /// @dev Emits {NonceIncreased}. Reverts {UnknownKey}, {NonceNotIncreased}.
    function increaseNonce(uint64 newNonce) external;

    /// @notice The organisation with id `orgId`. Reverts {UnknownOrganisation}.
    function getOrganisation(uint32 orgId) external view returns (Organisation memory);

    /// @notice Number of organisations admitted so far (ids run from 1 to this).
    function organisationCount() external view returns (uint32);

    /// @notice The key's organisation, kind, window and relay nonce (all zero if unknown).
    function getKey(address key) external view returns (KeyInfo memory);

    /// @notice Whether `key` was within its validity window at time `at`.
    function keyValidAt(address key, uint40 at) external view returns (bool);

    // ---------------------------------------------------------------- documents

    /// @notice Registers a document. The caller must be a valid key of an exporter or issuing body.
    /// @param fingerprint SHA-256 of the document's exact bytes
    /// @param docType UN/EDIFACT 1001 document name code (e.g. 861 certificate of origin)
    /// @param cidPrefix first 4 bytes of the binary IPFS CIDv1 of the same bytes (0x01551220 or 0x01701220)
    /// @param cidDigest the CID's sha2-256 digest (its last 32 bytes)
    /// @param consignmentRef the shipment's reference (e.g. the rail consignment note number)
    /// @dev Emits {DocumentRegistered}. Reverts {InvalidDocument}, {DocumentAlreadyRegistered},
    /// {UnknownKey}, {KeyNotValid}, {WrongOrganisationKind}.
    function register(
        bytes32 fingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef
    ) external;

    /// @notice As {register}, with the binary CID of a JSON metadata document (exporter,
    /// consignee, countries, HS codes...). A separate function keeps {register} lean.
    /// @dev Emits {DocumentRegistered} and {DocumentMetadataAnchored}; reverts as {register}.
    function registerWithMetadata(
        bytes32 fingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef,
        bytes calldata metadataCid
    ) external;

    /// @notice Registers a document from the issuer key's EIP-712 signed request; anyone may relay it.
    /// @dev Emits {DocumentRegistered} and {RegistrationRelayed}. Reverts {RequestExpired},
    /// {InvalidNonce}, {InvalidSignature} and the errors of {register}.
    function registerWithSignature(RegisterRequest calldata request, bytes calldata signature) external;

    /// @notice The EIP-712 digest that the issuer signs for `request`.
    function registerRequestDigest(RegisterRequest calldata request) external view returns (bytes32);

    /// @notice Anchors a batch of `size` documents under a Merkle root; the caller must be a valid
    /// key of an exporter or issuing body.
    /// @param manifestCid binary CID of the batch manifest (the members' fields), or empty
    /// @dev Emits {BatchAnchored}. Reverts {InvalidBatch} and the key errors of {register}.
    function anchorBatch(bytes32 root, uint32 size, bytes calldata manifestCid) external;

    /// @notice Whether `member` is in the batch anchored under `root`, by its Merkle proof.
    function verifyBatchMember(bytes32 root, BatchMember calldata member, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Records a batch member as an individual document (status Registered, issuer and
    /// time of the batch) so that it can be revoked, superseded or attested on its own. Anyone may
    /// call. The member's fields are checked as {register} checks them.
    /// @dev Emits {BatchMemberRecorded}. Reverts {UnknownBatch}, {BatchIsRevoked}, {InvalidDocument},
    /// {InvalidMerkleProof}, {DocumentAlreadyRegistered}.
    function recordBatchMember(bytes32 root, BatchMember calldata member, bytes32[] calldata proof) external;

    /// @notice Revokes a whole batch, with a reason code: every member is revoked, and no member can
    /// be recorded any more. A valid key of the batch's issuing organisation, or the admin.
    /// Members recorded before keep their own record on chain; a verifier reads the batch too.
    /// @dev Emits {BatchRevoked}. Reverts {UnknownBatch}, {BatchIsRevoked}, {NotOwningOrganisation}
    /// and the key errors.
    function revokeBatch(bytes32 root, uint8 reason) external;

    /// @notice Revokes a document, with a reason code. A valid key of the issuing organisation, or an admin.
    /// @dev Emits {DocumentRevoked}. Reverts {UnknownDocument}, {DocumentNotActive},
    /// {NotOwningOrganisation} and the key errors.
    function revoke(bytes32 fingerprint, uint8 reason) external;

    /// @notice Registers an amended document (fields as in {registerWithMetadata}) that replaces `oldFingerprint`.
    /// A valid key of the old document's issuing organisation.
    /// @dev Emits {DocumentRegistered} then {DocumentSuperseded}. Reverts {UnknownDocument},
    /// {DocumentNotActive}, {NotOwningOrganisation} and the errors of {register}.
    function supersede(
        bytes32 oldFingerprint,
        bytes32 newFingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef,
        bytes calldata metadataCid
    ) external;

    /// @notice The document record for a fingerprint (all zero if unknown).
    function getDocument(bytes32 fingerprint) external view returns (Document memory);

    /// @notice The batch anchored under `root` (all zero if unknown).
    function getBatch(bytes32 root) external view returns (Batch memory);

    /// @notice The fingerprint of the document that replaced `fingerprint`, or zero.
    function supersededBy(bytes32 fingerprint) external view returns (bytes32);

    /// @notice The fingerprint of the document that `fingerprint` replaced, or zero.
    function supersedes(bytes32 fingerprint) external view returns (bytes32);

    // ---------------------------------------------------------------- attestations

    /// @notice Records a customs attestation about an active (registered, neither revoked nor
    /// superseded) document. A valid customs key.
    /// @return id keccak256 of (fingerprint, attester, verdict, customsRef, time)
    /// @dev Emits {AttestationRecorded}. Reverts {UnknownDocument}, {DocumentNotActive}, {InvalidVerdict},
    /// {AttestationAlreadyRecorded} and the key errors.
    function attest(bytes32 fingerprint, Verdict verdict, string calldata customsRef) external returns (bytes32 id);

    /// @notice Revokes an attestation. A valid key of the attesting organisation.
    /// @dev Emits {AttestationRevoked}. Reverts {UnknownAttestation}, {AttestationAlreadyRevoked},
    /// {NotOwningOrganisation} and the key errors.
    function revokeAttestation(bytes32 id) external;

    /// @notice The attestation with this id (all zero if unknown).
    function getAttestation(bytes32 id) external view returns (Attestation memory);

    /// @notice The contract's version, e.g. "1.1.0".
    function version() external pure returns (string memory);
}
