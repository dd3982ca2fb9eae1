// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {
    Attestation,
    Batch,
    BatchMember,
    DocStatus,
    Document,
    ITradeDocumentLedger,
    KeyInfo,
    OrgKind,
    RegisterRequest,
    Verdict
} from "./interfaces/ITradeDocumentLedger.sol";
import {Organisations} from "./Organisations.sol";

/// @title Trade Document Ledger
/// @notice Registers trade documents by SHA-256 fingerprint, one at a time, relayed from an
/// EIP-712 signature, or by Merkle batch; revokes and supersedes them; records customs
/// attestations. See {ITradeDocumentLedger} for every function's rules.
contract TradeDocumentLedger is Organisations, EIP712 {
    bytes32 public constant REGISTER_REQUEST_TYPEHASH = keccak256(
        "RegisterRequest(address issuer,bytes32 fingerprint,uint16 docType,bytes4 cidPrefix,bytes32 cidDigest,"
        "string consignmentRef,bytes metadataCid,uint64 nonce,uint40 deadline)"
    );

    mapping(bytes32 fingerprint => Document) private _documents;
    mapping(bytes32 root => Batch) private _batches;
    mapping(bytes32 id => Attestation) private _attestations;
    mapping(bytes32 fingerprint => bytes32 replacement) private _supersededBy;
    mapping(bytes32 fingerprint => bytes32 replaced) private _supersedes;

    /// @notice How long a scheduled admin transfer waits before the new admin may accept it.
    uint48 public constant ADMIN_TRANSFER_DELAY = 2 days;

    /// @param admin the consortium admin: admits organisations and keys, may revoke any document
    constructor(address admin)
        EIP712("TradeDocumentLedger", "1")
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
    {}

    // ---------------------------------------------------------------- registration

    /// @inheritdoc ITradeDocumentLedger
    function register(
        bytes32 fingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef
    ) external {
        _validKeyOfKind(msg.sender, OrgKind.Exporter, OrgKind.IssuingBody);
        _register(msg.sender, fingerprint, docType, cidPrefix, cidDigest, consignmentRef);
    }

    /// @inheritdoc ITradeDocumentLedger
    function registerWithMetadata(
        bytes32 fingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef,
        bytes calldata metadataCid
    ) external {
        _validKeyOfKind(msg.sender, OrgKind.Exporter, OrgKind.IssuingBody);
        _register(msg.sender, fingerprint, docType, cidPrefix, cidDigest, consignmentRef);
        _anchorMetadata(fingerprint, metadataCid);
    }

    /// @inheritdoc ITradeDocumentLedger
    function registerWithSignature(RegisterRequest calldata request, bytes calldata signature) external {
        if (block.timestamp > request.deadline) revert RequestExpired(request.deadline);
        // The third value (the error's argument) only details `err`, which is checked below.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(_requestDigest(request), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != request.issuer) {
            revert InvalidSignature(request.issuer, recovered);
        }
        _validKeyOfKind(request.issuer, OrgKind.Exporter, OrgKind.IssuingBody);
        KeyInfo storage key = _keys[request.issuer];
        uint64 expected = key.nonce;
        if (request.nonce != expected) revert InvalidNonce(request.issuer, expected, request.nonce);
        key.nonce = expected + 1;
        _register(
            request.issuer,
            request.fingerprint,
            request.docType,
            request.cidPrefix,
            request.cidDigest,
            request.consignmentRef
        );
        _anchorMetadata(request.fingerprint, request.metadataCid);
        emit RegistrationRelayed(request.fingerprint, request.issuer, expected);
    }

    /// @inheritdoc ITradeDocumentLedger
    function registerRequestDigest(RegisterRequest calldata request) external view returns (bytes32) {
        return _requestDigest(request);
    }

    // ---------------------------------------------------------------- batches

    /// @inheritdoc ITradeDocumentLedger
    function anchorBatch(bytes32 root, uint32 size, bytes calldata manifestCid) external {
        _validKeyOfKind(msg.sender, OrgKind.Exporter, OrgKind.IssuingBody);
        if (root == bytes32(0) || size == 0 || _batches[root].issuer != address(0)) revert InvalidBatch(root);
        _batches[root] = Batch(msg.sender, uint40(block.timestamp), size, false);
        emit BatchAnchored(root, msg.sender, size, manifestCid);
    }

    /// @inheritdoc ITradeDocumentLedger
    function verifyBatchMember(bytes32 root, BatchMember calldata member, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _batches[root].issuer != address(0) && MerkleProof.verifyCalldata(proof, root, _leaf(member));
    }

    /// @inheritdoc ITradeDocumentLedger
    function recordBatchMember(bytes32 root, BatchMember calldata member, bytes32[] calldata proof) external {
        Batch storage batch = _batches[root];
        if (batch.issuer == address(0)) revert UnknownBatch(root);
        if (batch.revoked) revert BatchIsRevoked(root);
        _checkFields(member.fingerprint, member.docType, member.cidPrefix);
        if (!MerkleProof.verifyCalldata(proof, root, _leaf(member))) {
            revert InvalidMerkleProof(root, member.fingerprint);
        }
        _store(_unregistered(member.fingerprint), batch.issuer, batch.anchoredAt, member.docType);
        emit BatchMemberRecorded(member.fingerprint, root, member.docType, member.cidPrefix, member.cidDigest);
    }

    /// @inheritdoc ITradeDocumentLedger
    function revokeBatch(bytes32 root, uint8 reason) external {
        Batch storage batch = _batches[root];
        address issuer = batch.issuer;
        if (issuer == address(0)) revert UnknownBatch(root);
        if (batch.revoked) revert BatchIsRevoked(root);
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) _requireSameOrganisation(msg.sender, issuer);
        batch.revoked = true;
        emit BatchRevoked(root, msg.sender, reason);
    }

    // ---------------------------------------------------------------- revocation and supersession

    /// @inheritdoc ITradeDocumentLedger
    function revoke(bytes32 fingerprint, uint8 reason) external {
        Document storage doc = _activeDocument(fingerprint);
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) _requireSameOrganisation(msg.sender, doc.issuer);
        doc.status = DocStatus.Revoked;
        emit DocumentRevoked(fingerprint, msg.sender, reason);
    }

    /// @inheritdoc ITradeDocumentLedger
    function supersede(
        bytes32 oldFingerprint,
        bytes32 newFingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef,
        bytes calldata metadataCid
    ) external {
        Document storage old = _activeDocument(oldFingerprint);
        _validKeyOfKind(msg.sender, OrgKind.Exporter, OrgKind.IssuingBody);
        _requireSameOrganisation(msg.sender, old.issuer);
        _register(msg.sender, newFingerprint, docType, cidPrefix, cidDigest, consignmentRef);
        _anchorMetadata(newFingerprint, metadataCid);
        old.status = DocStatus.Superseded;
        _supersededBy[oldFingerprint] = newFingerprint;
        _supersedes[newFingerprint] = oldFingerprint;
        emit DocumentSuperseded(oldFingerprint, newFingerprint, msg.sender);
    }

    // ---------------------------------------------------------------- attestations

    /// @inheritdoc ITradeDocumentLedger
    function attest(bytes32 fingerprint, Verdict verdict, string calldata customsRef) external returns (bytes32 id) {
        _validKeyOfKind(msg.sender, OrgKind.Customs, OrgKind.Customs);
        if (verdict == Verdict.None) revert InvalidVerdict();
        _activeDocument(fingerprint);
        id = keccak256(abi.encode(fingerprint, msg.sender, verdict, keccak256(bytes(customsRef)), block.timestamp));
        Attestation storage attestation = _attestations[id];
        if (attestation.attester != address(0)) revert AttestationAlreadyRecorded(id);
        // One SSTORE into the unused slot, packed as {Attestation}: attester in bits 0-159,
        // attestedAt 160-199, verdict 200-207, revoked (false) 208-215.
        uint256 packed = uint256(uint160(msg.sender)) | (uint256(uint40(block.timestamp)) << 160) | (uint256(verdict) << 200);
        assembly ("memory-safe") {
            sstore(attestation.slot, packed)
        }
        emit AttestationRecorded(id, fingerprint, msg.sender, verdict, customsRef);
    }

    /// @inheritdoc ITradeDocumentLedger
    function revokeAttestation(bytes32 id) external {
        Attestation storage attestation = _attestations[id];
        if (attestation.attester == address(0)) revert UnknownAttestation(id);
        if (attestation.revoked) revert AttestationAlreadyRevoked(id);
        _requireSameOrganisation(msg.sender, attestation.attester);
        attestation.revoked = true;
        emit AttestationRevoked(id, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITradeDocumentLedger
    function getDocument(bytes32 fingerprint) external view returns (Document memory) {
        return _documents[fingerprint];
    }

    /// @inheritdoc ITradeDocumentLedger
    function getBatch(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc ITradeDocumentLedger
    function supersededBy(bytes32 fingerprint) external view returns (bytes32) {
        return _supersededBy[fingerprint];
    }

    /// @inheritdoc ITradeDocumentLedger
    function supersedes(bytes32 fingerprint) external view returns (bytes32) {
        return _supersedes[fingerprint];
    }

    /// @inheritdoc ITradeDocumentLedger
    function getAttestation(bytes32 id) external view returns (Attestation memory) {
        return _attestations[id];
    }

    /// @inheritdoc ITradeDocumentLedger
    function version() external pure returns (string memory) {
        return "1.1.0";
    }

    // ---------------------------------------------------------------- internals

    function _register(
        address issuer,
        bytes32 fingerprint,
        uint16 docType,
        bytes4 cidPrefix,
        bytes32 cidDigest,
        string calldata consignmentRef
    ) private {
        _checkFields(fingerprint, docType, cidPrefix);
        _store(_unregistered(fingerprint), issuer, uint40(block.timestamp), docType);
        emit DocumentRegistered(fingerprint, issuer, docType, cidPrefix, cidDigest, consignmentRef);
    }

    /// @dev A fingerprint and a type, and a CIDv1 (first byte 0x01) whose multihash digest is
    /// 32 bytes long (last prefix byte 0x20).
    function _checkFields(bytes32 fingerprint, uint16 docType, bytes4 cidPrefix) private pure {
        if (fingerprint == bytes32(0) || docType == 0 || cidPrefix[0] != 0x01 || cidPrefix[3] != 0x20) {
            revert InvalidDocument(fingerprint);
        }
    }

    function _anchorMetadata(bytes32 fingerprint, bytes calldata metadataCid) private {
        if (metadataCid.length != 0) emit DocumentMetadataAnchored(fingerprint, metadataCid);
    }

    /// @dev The record slot of `fingerprint`, which must be unused.
    function _unregistered(bytes32 fingerprint) private view returns (Document storage doc) {
        doc = _documents[fingerprint];
        if (doc.status != DocStatus.None) revert DocumentAlreadyRegistered(fingerprint, doc.issuer, doc.registeredAt);
    }

    /// @dev Writes a new record into its (unused, all-zero) slot in one SSTORE, without reading
    /// the slot again as a struct assignment would. The packing is {Document}'s: issuer in bits
    /// 0-159, registeredAt 160-199, docType 200-215, status 216-223.
    function _store(Document storage doc, address issuer, uint40 registeredAt, uint16 docType) private {
        uint256 registered = uint256(uint8(DocStatus.Registered));
        assembly ("memory-safe") {
            sstore(
                doc.slot,
                or(or(issuer, shl(160, registeredAt)), or(shl(200, docType), shl(216, registered)))
            )
        }
    }

    function _activeDocument(bytes32 fingerprint) private view returns (Document storage doc) {
        doc = _documents[fingerprint];
        if (doc.status == DocStatus.None) revert UnknownDocument(fingerprint);
        if (doc.status != DocStatus.Registered) revert DocumentNotActive(fingerprint, doc.status);
    }

    /// @dev `key` must be valid now and belong to the organisation of `owner` (another key).
    function _requireSameOrganisation(address key, address owner) private view {
        uint32 orgId = _keys[owner].orgId;
        (uint32 keyOrg,) = _validKey(key);
        if (keyOrg != orgId) revert NotOwningOrganisation(key, orgId);
    }

    function _requestDigest(RegisterRequest calldata r) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REGISTER_REQUEST_TYPEHASH,
                    r.issuer,
                    r.fingerprint,
                    r.docType,
                    r.cidPrefix,
                    r.cidDigest,
                    keccak256(bytes(r.consignmentRef)),
                    keccak256(r.metadataCid),
                    r.nonce,
                    r.deadline
                )
            )
        );
    }

    /// @dev OpenZeppelin's standard Merkle tree leaf: double keccak of the encoded fields.
    function _leaf(BatchMember calldata m) private pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(
                        m.fingerprint, m.docType, m.cidPrefix, m.cidDigest, keccak256(bytes(m.consignmentRef))
                    )
                )
            )
        );
    }
}
