import ICCore

/// One connection end to end: the client's principal and the random nonce it picked for this
/// connection (protocol §1.2, Candid `ClientKey`).
public struct ClientKey: Hashable, Sendable, CandidCodable, CustomStringConvertible, UTF8TextConvertible {
    public var clientPrincipal: Principal
    public var clientNonce: UInt64

    public init(clientPrincipal: Principal, clientNonce: UInt64) {
        self.clientPrincipal = clientPrincipal
        self.clientNonce = clientNonce
    }

    /// `<principal text>_<nonce in decimal, no padding>`: the form the reference error texts use
    /// (§3.5).
    public var utf8Text: UTF8Text { "\(clientPrincipal)_\(clientNonce)" }

    public static var candidType: CandidType {
        .record([.field("client_principal", Principal.self), .field("client_nonce", UInt64.self)])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [.field("client_principal", clientPrincipal), .field("client_nonce", clientNonce)])
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientPrincipal = try record.field("client_principal")
        clientNonce = try record.field("client_nonce")
    }
}
