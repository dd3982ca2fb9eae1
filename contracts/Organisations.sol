// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ITradeDocumentLedger, KeyInfo, OrgKind, Organisation} from "./interfaces/ITradeDocumentLedger.sol";

/// @title Organisations and their keys
/// @notice The consortium admin (DEFAULT_ADMIN_ROLE) admits organisations and gives them keys,
/// each valid for a window of time. Keys are never reassigned, and retiring one only ends its
/// window, so what it signed while valid stays valid. There is one admin at a time, handed over
/// in two steps with a delay (OpenZeppelin's {AccessControlDefaultAdminRules}).
abstract contract Organisations is ITradeDocumentLedger, AccessControlDefaultAdminRules {
    mapping(uint32 orgId => Organisation) private _organisations;
    mapping(address key => KeyInfo) internal _keys;
    uint32 private _organisationCount;

    /// @inheritdoc ITradeDocumentLedger
    function admitOrganisation(string calldata name, bytes2 country, OrgKind kind)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint32 orgId)
    {
        if (bytes(name).length == 0 || kind == OrgKind.None) revert InvalidOrganisation();
        if (!_isCountryCode(country)) revert InvalidCountry(country);
        orgId = ++_organisationCount;
        _organisations[orgId] = Organisation(name, country, kind);
        emit OrganisationAdmitted(orgId, kind, country, name);
    }

    /// @inheritdoc ITradeDocumentLedger
    function addKey(uint32 orgId, address key, uint40 validFrom, uint40 validUntil)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (orgId == 0 || orgId > _organisationCount) revert UnknownOrganisation(orgId);
        if (key == address(0) || _keys[key].orgId != 0) revert KeyAlreadyAdmitted(key);
        if (validFrom == 0 || validUntil <= validFrom || validUntil <= block.timestamp) {
            revert InvalidValidityWindow(validFrom, validUntil);
        }
        _keys[key] = KeyInfo(orgId, _organisations[orgId].kind, validFrom, validUntil, 0, false);
        emit KeyAdded(key, orgId, validFrom, validUntil);
    }

    /// @inheritdoc ITradeDocumentLedger
    function retireKey(address key) external onlyRole(DEFAULT_ADMIN_ROLE) {
        KeyInfo storage info = _keys[key];
        if (info.orgId == 0) revert UnknownKey(key);
        if (info.retired || block.timestamp >= info.validUntil) {
            revert KeyNotValid(key, info.validFrom, info.validUntil);
        }
        // The window ends after this second, so a registration earlier in this block (same time)
        // stays inside it; `retired` stops the key from acting again in this block.
        uint40 retiredAt = uint40(block.timestamp) + 1;
        if (retiredAt < info.validUntil) info.validUntil = retiredAt;
        info.retired = true;
        emit KeyRetired(key, info.orgId, info.validUntil);
    }

    /// @inheritdoc ITradeDocumentLedger
    function increaseNonce(uint64 newNonce) external {
        KeyInfo storage info = _keys[msg.sender];
        if (info.orgId == 0) revert UnknownKey(msg.sender);
        uint64 current = info.nonce;
        if (newNonce <= current) revert NonceNotIncreased(msg.sender, current, newNonce);
        info.nonce = newNonce;
        emit NonceIncreased(msg.sender, current, newNonce);
    }

    /// @inheritdoc ITradeDocumentLedger
    function getOrganisation(uint32 orgId) external view returns (Organisation memory) {
        if (orgId == 0 || orgId > _organisationCount) revert UnknownOrganisation(orgId);
        return _organisations[orgId];
    }

    /// @inheritdoc ITradeDocumentLedger
    function organisationCount() external view returns (uint32) {
        return _organisationCount;
    }

    /// @inheritdoc ITradeDocumentLedger
    function getKey(address key) external view returns (KeyInfo memory) {
        return _keys[key];
    }

    /// @inheritdoc ITradeDocumentLedger
    function keyValidAt(address key, uint40 at) external view returns (bool) {
        KeyInfo storage info = _keys[key];
        return info.orgId != 0 && info.validFrom <= at && at < info.validUntil;
    }

    /// @dev The key's organisation if the key is admitted and inside its window now; reverts otherwise.
    function _validKey(address key) internal view returns (uint32 orgId, OrgKind kind) {
        KeyInfo storage info = _keys[key];
        uint40 validFrom;
        uint40 validUntil;
        bool retired;
        (orgId, kind, validFrom, validUntil, retired) =
            (info.orgId, info.kind, info.validFrom, info.validUntil, info.retired);
        if (orgId == 0) revert UnknownKey(key);
        if (retired || block.timestamp < validFrom || block.timestamp >= validUntil) {
            revert KeyNotValid(key, validFrom, validUntil);
        }
    }

    /// @dev As {_validKey}, and the key's organisation must be of kind `a` or `b`.
    function _validKeyOfKind(address key, OrgKind a, OrgKind b) internal view {
        (, OrgKind kind) = _validKey(key);
        if (kind != a && kind != b) revert WrongOrganisationKind(key, kind);
    }

    function _isCountryCode(bytes2 code) private pure returns (bool) {
        return _isCapital(code[0]) && _isCapital(code[1]);
    }

    function _isCapital(bytes1 c) private pure returns (bool) {
        return c >= "A" && c <= "Z";
    }
}
